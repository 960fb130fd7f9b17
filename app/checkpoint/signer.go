package checkpoint

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// SignInterval is how often a Signer looks for a new checkpoint point.
const SignInterval = time.Second

// Signer signs the evidence log's checkpoint points with a validator's
// local consensus key and sends each signature to the chain, once, through
// the node's mempool. It runs beside consensus, in a goroutine of its own:
// each second it reads one key of the committed state (the last checkpoint
// point), and it sends one transaction per checkpoint point.
type Signer struct {
	chainID  string
	key      ed25519.PrivateKey
	app      *abci.Application
	chain    app.Chain
	log      cmtlog.Logger
	interval time.Duration

	last   uint64 // the checkpoint size handled last
	handed bool   // last is handled: signed, or not this validator's

	loop loop
}

// SignerFactory builds the checkpoint signer of a validator node: nil on a
// node without a local consensus key (priv_validator_laddr set: the key is
// in a remote signer, which signs only consensus messages; or no key file).
func SignerFactory(n *app.Node) (app.Service, error) {
	if n.Config.Comet.PrivValidatorListenAddr != "" {
		n.Logger.Info("checkpoints: the consensus key is in a remote signer; this node does not sign checkpoints")
		return nil, nil
	}
	key, err := LoadConsensusKey(n.Config.Comet.PrivValidatorKeyFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return NewSigner(n.App, n.Chain(), key, n.Logger.With("module", "checkpoint"), SignInterval), nil
}

// NewSigner returns a signer of chain's checkpoints with key, looking for a
// new checkpoint point every interval.
func NewSigner(a *abci.Application, chain app.Chain, key ed25519.PrivateKey, logger cmtlog.Logger, interval time.Duration) *Signer {
	return &Signer{chainID: chain.ChainID(), key: key, app: a, chain: chain, log: logger, interval: interval}
}

// LoadConsensusKey reads the ed25519 consensus key of a CometBFT
// priv_validator_key.json.
func LoadConsensusKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		PrivKey struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"priv_key"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if f.PrivKey.Type != "tendermint/PrivKeyEd25519" {
		return nil, fmt.Errorf("checkpoint: %s: key of type %q, want an ed25519 key", path, f.PrivKey.Type)
	}
	k, err := base64.StdEncoding.DecodeString(f.PrivKey.Value)
	if err != nil || len(k) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("checkpoint: %s: not an ed25519 private key", path)
	}
	return ed25519.PrivateKey(k), nil
}

// Start starts signing.
func (s *Signer) Start() error {
	s.loop.start(s.interval, s.Step)
	return nil
}

// Stop stops signing.
func (s *Signer) Stop() error {
	s.loop.stop()
	return nil
}

// Step signs the last checkpoint point if this validator has not yet; a
// transaction the mempool could not take now is sent again at the next
// step.
func (s *Signer) Step(ctx context.Context) {
	if h, _, _ := s.app.LastCommit(); s.chain.CatchingUp() || h == 0 {
		return
	}
	view, err := s.app.StateAt(0)
	if err != nil {
		return
	}
	_, size, ok, err := ledger.LastCheckpoint(view)
	if err != nil || !ok || (s.handed && size == s.last) {
		return
	}
	s.last, s.handed = size, false
	c, err := ledger.LoadCheckpoint(view, size)
	if err != nil || c == nil {
		s.log.Error("checkpoint: read the checkpoint point", "size", size, "err", err)
		return
	}
	pub := s.key.Public().(ed25519.PublicKey)
	var ministry string
	for _, v := range c.Validators {
		if string(v.PubKey) == string(pub) {
			ministry = v.MinistryId
		}
	}
	if ministry == "" {
		s.handed = true // not a validator of this checkpoint
		return
	}
	if sig, err := view.Get(ledger.CheckpointSignatureKey(size, ministry)); err == nil && sig != nil {
		s.handed = true
		return
	}
	text := ledger.CheckpointText(ledger.CheckpointOrigin(s.chainID), c.Size, c.Root)
	body := &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{
		Size: size, PubKey: pub, Signature: ed25519.Sign(s.key, text),
	}}}
	raw := ledger.EncodeSigned(s.chainID, pub, body, func(m []byte) []byte { return ed25519.Sign(s.key, m) })
	s.app.MarkLocal(ledger.TxHash(raw))
	res, err := s.chain.CheckTx(ctx, raw)
	switch {
	case errors.Is(err, mempl.ErrTxInCache):
		s.handed = true // in the mempool, or committed
	case err != nil:
		s.log.Info("checkpoint: the mempool cannot take the signature now; retrying", "size", size, "err", err)
	case res.Code == abcitypes.CodeTypeOK:
		s.handed = true
		s.log.Info("checkpoint signed", "size", size, "height", c.Height, "ministry", ministry)
	case res.Code == ledger.CodeInternal:
		s.log.Info("checkpoint: signature not checked now; retrying", "size", size, "log", res.Log)
	default:
		s.handed = true
		s.log.Error("checkpoint: signature refused", "size", size, "code", res.Code, "log", res.Log)
	}
}
