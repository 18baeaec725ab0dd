// A stand-in RTCPeerConnection (what opts.wrtc takes) that never connects by itself: its offer
// and answer are a minimal valid SDP, every description and candidate is taken, and no data
// channel opens until a test calls open(). It holds a WebRTC session open without node-datachannel's
// threads, on any clock: the tests of WebRTCLinks' caps and its signalling deadline.

/** A data-channel-only SDP that passes validateSignal and checkSdp (no candidates in it). */
export const SDP = 'v=0\r\no=rtc 1 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n'

/** A stand-in RTCDataChannel: `readyState` as given; send and close are taken and noted. */
function channel (label, readyState) {
  return Object.assign(new EventTarget(), {
    label,
    readyState,
    bufferedAmount: 0,
    bufferedAmountLowThreshold: 0,
    binaryType: 'blob',
    sent: [],
    send (d) { this.sent.push(d) },
    close () { this.readyState = 'closed' }
  })
}

/** opts.wrtc with the stand-in; `made` lists every peer connection made, in order. */
export function standInWrtc () {
  const made = []
  class StandInPC extends EventTarget {
    iceConnectionState = 'new'
    connectionState = 'new'
    signalingState = 'stable'
    closed = false
    constructor (config) {
      super()
      this.config = config
      made.push(this)
    }

    createDataChannel (label) { return channel(label, 'connecting') }
    async createOffer () { return { type: 'offer', sdp: SDP } }
    async createAnswer () { return { type: 'answer', sdp: SDP } }
    async setLocalDescription (d) { this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable' }
    async setRemoteDescription (d) { this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable' }
    async addIceCandidate () {}
    close () {
      this.closed = true
      this.connectionState = 'closed'
    }

    /** The answering side's channel opens (as ICE, DTLS and SCTP would have it). */
    open () {
      const e = new Event('datachannel')
      e.channel = channel('peernet', 'open')
      this.dispatchEvent(e)
    }
  }
  return { wrtc: { RTCPeerConnection: StandInPC }, made }
}
