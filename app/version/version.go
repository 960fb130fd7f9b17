package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Release and Commit are stamped at build time with -ldflags -X; empty means
// not stamped.
var (
	// Release is the release name, such as v0.2.0.
	Release string
	// Commit is the full commit hash the binary was built from.
	Commit string
)

// Values reported when nothing better is known.
const (
	Devel   = "devel"
	Unknown = "unknown"
)

// cometBFTModule is the CometBFT module path.
const cometBFTModule = "github.com/cometbft/cometbft"

// cometBFTRequired is the CometBFT version go.mod requires; it is reported
// when the binary does not link CometBFT, and a test keeps it equal to
// go.mod's.
const cometBFTRequired = "v0.38.26"

// Info describes a build.
type Info struct {
	Release  string `json:"release"`
	Commit   string `json:"commit"`
	CometBFT string `json:"cometbft"`
	Go       string `json:"go"`
}

// String is the one-line form: "v0.2.0 (commit 1a2b3c…, cometbft v0.38.26,
// go1.26.0)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, cometbft %s, %s)", i.Release, i.Commit, i.CometBFT, i.Go)
}

// Get returns the running binary's Info.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	i := resolve(Release, Commit, bi)
	i.Go = runtime.Version()
	return i
}

// resolve fills Release, Commit and CometBFT from the stamped values, else
// from the build information.
func resolve(release, commit string, bi *debug.BuildInfo) Info {
	i := Info{Release: release, Commit: commit, CometBFT: cometBFTRequired}
	if i.Release == "" {
		i.Release = Devel
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Release = v
		}
	}
	if i.Commit == "" {
		i.Commit = Unknown
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if s.Value != "" {
					i.Commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && i.Commit != Unknown {
			i.Commit += "-dirty"
		}
	}
	for _, d := range bi.Deps {
		if d.Path != cometBFTModule {
			continue
		}
		switch {
		case d.Replace != nil && d.Replace.Version != "":
			i.CometBFT = d.Replace.Version
		case d.Version != "":
			i.CometBFT = d.Version
		}
	}
	return i
}
