package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// emptyBlockFlags say when a new chain makes blocks without transactions.
type emptyBlockFlags struct {
	always   bool
	interval time.Duration
}

// register registers the flags; suffix ends their help (", for a new
// chain" where they apply only when the command creates the chain).
func (e *emptyBlockFlags) register(cmd *cobra.Command, suffix string) {
	f := cmd.Flags()
	f.BoolVar(&e.always, "empty-blocks", false, "make a block every block interval even without transactions (CometBFT create_empty_blocks); by default an idle chain makes no blocks and its data does not grow"+suffix)
	f.DurationVar(&e.interval, "empty-block-interval", 0, "make an empty block after this long without a block, for a signed header at least that recent (CometBFT create_empty_blocks_interval); 0 makes none"+suffix)
}

// check refuses a negative interval.
func (e emptyBlockFlags) check() error {
	if e.interval < 0 {
		return cli.Usage("--empty-block-interval must not be negative")
	}
	return nil
}

// apply sets them in spec.
func (e emptyBlockFlags) apply(spec *app.NetworkSpec) {
	spec.EmptyBlocks, spec.EmptyBlocksInterval = e.always, e.interval
}
