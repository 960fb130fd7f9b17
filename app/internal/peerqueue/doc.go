// Package peerqueue hands a CometBFT p2p reactor each peer's messages from
// a queue of the peer's own, on a goroutine of the peer's own, instead of in
// the peer connection's receive routine.
//
// CometBFT's switch calls a reactor's Receive in the receive routine of the
// connection the message came on, and every channel of that connection
// shares the routine: while Receive waits, nothing else arrives from that
// peer. CometBFT's consensus reactor waits there for the consensus lock,
// which is held while the application checks or executes a block; a node
// whose ProcessProposal or FinalizeBlock waits for bytes a peer must send
// (app/internal/txsync) would then wait for ever behind its own lock.
// Wrapped, such a reactor's Receive only queues the message; the
// connection keeps reading the other channels.
//
// What stays as in the connection's routine: a peer's messages reach the
// reactor in the order they arrived, one at a time; a full queue makes the
// connection wait (back-pressure, as before); a panic in the reactor's
// Receive stops that peer with an error, as the connection's routine does.
// What differs: messages still queued when a peer stops are dropped (the
// peer is gone), and messages of different peers may reach the reactor
// concurrently (as they do from different connections).
//
// The wrapper implements p2p.Reactor and forwards everything else (Start,
// Stop, SetSwitch, GetChannels, InitPeer, AddPeer, RemovePeer) to the
// wrapped reactor, so it is registered under the wrapped reactor's name
// with node.CustomReactors. It is written against the public p2p.Reactor
// interface only: methods of the wrapped reactor that other reactors call
// through the switch are not passed on (CometBFT's block sync calls
// SwitchToConsensus on the reactor registered as "CONSENSUS"; app/node.go
// passes that one on).
//
// Tests: TestOtherChannelsFlow (a blocked Receive does not stop another
// reactor's channel on the same connection; unwrapped, it does),
// TestOrderAndBackPressure, TestPanicStopsPeer, TestRemovePeerEndsQueue.
package peerqueue
