package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/web"
)

func newStartCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "start",
		Short: "run the node of a home until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := app.LoadConfig(home)
			if err != nil {
				return err
			}
			return runNode(cmd.Context(), cfg, nil)
		},
	}
	cmd.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	return cmd
}

// runNode starts a node, calls started (if any) once it runs, and stops it
// when ctx is done.
func runNode(ctx context.Context, cfg *app.Config, started func(*app.Node) error) error {
	logger, err := app.NewLogger(cfg)
	if err != nil {
		return err
	}
	n, err := app.NewNode(cfg, logger, nodeServices()...)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if started != nil {
		if err := started(n); err != nil {
			_ = n.Stop() // the error returned is started's
			return err
		}
	}
	<-ctx.Done()
	logger.Info("stopping")
	return n.Stop()
}

// nodeServices are the services every node runs beside CometBFT: the
// submitter of checkpoints to the witnesses, the gRPC gateway (whose v2
// receipts carry the witnesses' cosignatures), the public HTTP
// endpoint, which serves the web verifier, the evidence log and its
// checkpoints with the witnesses' cosignatures, and on a validator the
// checkpoint signer.
func nodeServices() []app.ServiceFactory {
	var ws *checkpoint.Witnesses
	return []app.ServiceFactory{
		func(n *app.Node) (app.Service, error) {
			var err error
			if ws, err = checkpoint.WitnessesFactory(n); err != nil {
				return nil, err
			}
			return ws, nil
		},
		func(n *app.Node) (app.Service, error) {
			return gateway.NewFactory(gateway.Options{Receipts: gateway.ReceiptsWith(ws)})(n)
		},
		func(n *app.Node) (app.Service, error) { return publicWithPage(n, ws) },
		checkpoint.SignerFactory,
	}
}

// publicWithPage builds the public endpoint with the web verifier's page and
// the home's trust bundle (served as /trust.json), serving the checkpoints
// of ws; a home without a valid trust bundle serves the status routes only.
func publicWithPage(n *app.Node, ws *checkpoint.Witnesses) (app.Service, error) {
	opts := public.Options{Checkpoints: ws}
	if b, err := os.ReadFile(n.Config.Path(app.TrustFile)); err == nil {
		site, err := web.Site(b)
		if err != nil {
			n.Logger.Error("web verifier not served: the home's trust bundle is not valid", "err", err)
		} else {
			opts.Web = site
		}
	}
	return public.NewFactory(opts)(n)
}
