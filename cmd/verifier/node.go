package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/app/layout"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The citizen commands talk to a node's public gateway; `verifier verify`
// and `verifier inspect` never do.

// Defaults of the citizen commands: the dev chain that `notaryd dev` runs.
const (
	defaultNode    = "127.0.0.1:9090"
	devHome        = ".notary-dev"
	devCitizen     = "dev-citizen"
	defaultTimeout = 30 * time.Second
)

// homeDir is the user's home directory, or "" if unknown.
func (e rootEnv) homeDir() string {
	if e.home != "" {
		return e.home
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return h
}

// defaultIdentity is the dev chain's citizen identity.
func (e rootEnv) defaultIdentity() string {
	return filepath.Join(e.homeDir(), devHome, layout.IdentitiesDir, devCitizen)
}

// defaultTrust is the dev chain's trust bundle.
func (e rootEnv) defaultTrust() string { return filepath.Join(e.homeDir(), devHome, layout.TrustFile) }

// nodeFlags are the flags of commands that reach a node as a citizen.
type nodeFlags struct {
	node     string
	ca       string
	identity string
	timeout  time.Duration
}

func (f *nodeFlags) register(cmd *cobra.Command, env rootEnv) {
	cmd.Flags().StringVar(&f.node, "node", "", "gateway address host:port (default: the identity's node, else "+defaultNode+")")
	cmd.Flags().StringVar(&f.ca, "ca", "", "consortium CA certificate (PEM) to authenticate the node (default: ca.crt in the identity directory)")
	cmd.Flags().StringVar(&f.identity, "identity", env.defaultIdentity(), "citizen identity directory (verifier citizen keygen makes one)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultTimeout, "how long to wait for the node")
}

// loadCitizen reads the citizen identity of --identity.
func (f *nodeFlags) loadCitizen() (*identity.Identity, error) {
	if f.identity == "" {
		return nil, cli.Usage("--identity is required: a citizen identity directory")
	}
	id, err := identity.Load(f.identity)
	if err != nil {
		return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%w (create one with: verifier citizen keygen --out DIR)", err))
	}
	if id.Role != identity.RoleCitizen {
		return nil, cli.Usage("%s is the identity of %s %q, not of a citizen", f.identity, id.Role, id.ID)
	}
	return id, nil
}

// session is a connection to a node's gateway.
type session struct {
	gw   gatewayv1.GatewayClient
	cc   *grpc.ClientConn
	addr string
}

func (s *session) Close() error { return s.cc.Close() }

// dial connects to the gateway of --node over TLS, authenticating it with
// the consortium CA (--ca, or ca.crt of the identity directory dir). A
// citizen presents no client certificate: the gateway authorises consent
// transactions by their signature.
func (f *nodeFlags) dial(id *identity.Identity) (*session, error) {
	addr := f.node
	if addr == "" && id != nil {
		addr = id.Node
	}
	if addr == "" {
		addr = defaultNode
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case f.ca != "":
		pem, err := inputfile.ReadFile(f.ca)
		if err != nil {
			return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("--ca: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, cli.Usage("--ca: %s holds no PEM certificate", f.ca)
		}
		cfg.RootCAs = pool
	case id != nil && id.Dir() != "":
		c, err := identity.ClientTLS(id.Dir())
		if err != nil {
			return nil, cli.Fail(cli.ExitUsage, err)
		}
		// Only the CA: a citizen does not present a certificate.
		cfg.RootCAs = c.RootCAs
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		return nil, cli.Usage("--node %q: %v", addr, err)
	}
	return &session{gw: gatewayv1.NewGatewayClient(cc), cc: cc, addr: addr}, nil
}

// connect loads the citizen identity of --identity and dials its node;
// ctx is the command's context bounded by --timeout. The caller defers
// done, which releases ctx and closes the connection.
func (f *nodeFlags) connect(cmd *cobra.Command) (id *identity.Identity, s *session, ctx context.Context, done func(), err error) {
	if id, err = f.loadCitizen(); err != nil {
		return nil, nil, nil, nil, err
	}
	if s, err = f.dial(id); err != nil {
		return nil, nil, nil, nil, err
	}
	ctx, cancel := f.withTimeout(cmd)
	return id, s, ctx, func() { cancel(); _ = s.Close() }, nil
}

// nodeError turns a gateway error into an exit error: 4 if the node could
// not be reached or answered too late, 1 if it refused.
func nodeError(addr, what string, err error) error {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return cli.Fail(cli.ExitUnavail, fmt.Errorf("%s: node %s: %s", what, addr, st.Message()))
	}
	return cli.Fail(cli.ExitFailure, fmt.Errorf("%s: refused by node %s (%s): %s", what, addr, st.Code(), st.Message()))
}

// submitAsCitizen signs body with the citizen's key and its next sequence,
// sends it and waits until it is committed.
func submitAsCitizen(ctx context.Context, s *session, id *identity.Identity, body *notaryv1.TxBody) (*notaryv1.SubmitResponse, error) {
	st, err := s.gw.GetStatus(ctx, &notaryv1.GetStatusRequest{})
	if err != nil {
		return nil, nodeError(s.addr, "status", err)
	}
	if st.ChainId != id.ChainID {
		return nil, cli.Usage("the identity in %s signs for chain %q, but node %s serves chain %q", id.Dir(), id.ChainID, s.addr, st.ChainId)
	}
	acct, err := s.gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: id.Public()})
	if err != nil {
		return nil, nodeError(s.addr, "account", err)
	}
	body.Sequence = acct.GetAccount().GetNextSequence()
	resp, err := s.gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: id.SignTx(body)})
	if err != nil {
		if refusedCode(err) == ledger.ErrNotEnrolled.Code() {
			return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("your key is not enrolled on chain %s: an identity agency enrols it (give it your public key %s); refused by node %s: %s",
				id.ChainID, id.PublicKey, s.addr, status.Convert(err).Message()))
		}
		return nil, nodeError(s.addr, "submit", err)
	}
	if resp.Code != 0 {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("refused by the chain (code %d): %s", resp.Code, resp.Log))
	}
	return resp, nil
}

// refusedCode is the chain's code of a refused submission (the
// SubmitResponse in the status details), or 0.
func refusedCode(err error) uint32 {
	for _, d := range status.Convert(err).Details() {
		if r, ok := d.(*notaryv1.SubmitResponse); ok {
			return r.Code
		}
	}
	return 0
}

// withTimeout is the command's context bounded by --timeout.
func (f *nodeFlags) withTimeout(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if f.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, f.timeout)
}
