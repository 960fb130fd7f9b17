// Package ratelimit keeps token buckets per client address for the node's
// servers (the gRPC gateway, the public HTTP endpoint): a table of fixed
// size in which a new address replaces the one used least recently, so that
// the table never refuses anyone for being full and a flood from many
// addresses only churns it. An address is limited under its prefix
// (AddrPrefix): an IPv4 address, or the /64 of an IPv6 address.
package ratelimit
