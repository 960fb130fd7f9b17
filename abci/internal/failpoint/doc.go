// Package failpoint crashes the node process at named persistence
// boundaries, for crash-recovery tests. It is compiled in only with the build
// tag "failpoints"; in normal builds Hit is an empty function.
//
// With the tag, NOTARY_FAILPOINT=<name>@<height> makes the process exit
// (status 99, no cleanup, like a crash) when Hit(name, height) is reached;
// "<name>" alone matches any height.
//
// Names used by the abci package, in the order a block passes them:
//
//	finalize-before       FinalizeBlock called, nothing done
//	finalize-after        FinalizeBlock done, before it returns
//	commit-before-index   Commit called, nothing persisted
//	commit-before-save    digest index entries and log leaves persisted, state version not saved
//	commit-after-save     state version saved, Commit not returned
//	commit-after          Commit about to return
//	log-tiles-written     the log writer wrote a block's evidence log tiles, not the tile store's tree
//	log-integrated        the log writer recorded them
//
// The last two are reached only by blocks that append to the evidence log,
// in the log writer's goroutine, after their Commit.
package failpoint

// Names lists every failpoint, in order.
var Names = []string{
	"finalize-before", "finalize-after",
	"commit-before-index", "commit-before-save", "commit-after-save", "commit-after",
	"log-tiles-written", "log-integrated",
}
