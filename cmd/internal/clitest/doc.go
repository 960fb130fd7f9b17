// Package clitest helps the command-line tools' tests run a tool as a real
// process (the test binary re-executed as the tool's main) and give it
// hostile inputs: named pipes, devices, sparse files of any size and
// network peers that accept a connection and never answer.
package clitest
