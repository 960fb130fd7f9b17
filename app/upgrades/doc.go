// Package upgrades is the registry of the upgrades this binary knows, by
// name. An upgrade scheduled by governance (a schedule-upgrade proposal)
// stops every node at its height unless the node's binary registered its
// name here; such a binary runs the upgrade's state migration at that
// height and continues (docs/adr/0026-governed-upgrades.md).
//
// A release that changes the state machine registers its upgrade in an
// init function of a file of this package:
//
//	func init() { Register("v2", migrateV2) }
//
// where migrateV2 is a ledger.UpgradeHandler (nil when nothing in the state
// changes). The file built with the tag "upgradetest" registers the upgrade
// the end-to-end test schedules.
package upgrades
