package cli

import (
	"fmt"
	"io"

	"github.com/gobtechlab/notary/app/version"
)

// VersionResult is what the tools' version commands return: the program's
// name and its build (package version).
type VersionResult struct {
	Program string `json:"program"`
	version.Info
}

// NewVersionResult describes the running build of program.
func NewVersionResult(program string) VersionResult {
	return VersionResult{Program: program, Info: version.Get()}
}

// Text prints the release on the first line, then the commit, the CometBFT
// version and the Go toolchain.
func (v VersionResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s %s\n  commit    %s\n  cometbft  %s\n  go        %s\n",
		v.Program, v.Release, v.Commit, v.CometBFT, v.Go)
	return err
}
