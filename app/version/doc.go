// Package version says which build of the notary is running: its release,
// the commit it was built from, the CometBFT version it speaks and the Go
// toolchain.
//
// Release builds stamp Release and Commit with the linker
// (scripts/build.sh does):
//
//	go build -ldflags "-X github.com/gobtechlab/notary/app/version.Release=v0.2.0 \
//	  -X github.com/gobtechlab/notary/app/version.Commit=$(git rev-parse HEAD)" ./cmd/notaryd
//
// Without them (go run, go build, go install) Get falls back on the binary's
// build information: the module version when it is a real one (go install
// module@version), else "devel"; the VCS revision the go command recorded
// (with "-dirty" for uncommitted changes), else "unknown".
//
// The CometBFT version comes from the build information too, so that
// binaries that do not link CometBFT (notaryctl, the verifier) report the
// version the module requires rather than linking CometBFT to ask it.
//
// The package imports only the standard library.
package version
