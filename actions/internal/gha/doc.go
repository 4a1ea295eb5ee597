// Package gha is what the GitHub Actions under actions/ share: each
// action's inputs and outputs as one table (Input, Output) that the Go code
// reads through and the tests compare with action.yml; the typed inputs
// (environment names, specs, plan digests, workspace paths); the step
// summary's markdown table of a plan; log groups per phase; error
// annotations; and Connect, the embedded default (internal/local) behind an
// action's linode-token input.
//
// Inputs arrive as INPUT_<NAME> environment variables, which a composite
// action maps explicitly from its inputs (composite steps do not receive
// them on their own). Read reads every input of the table, and masks each
// secret one with ::add-mask:: before anything else is printed or sent;
// Values.Get panics on a name the table lacks, so the table is the only way
// in.
package gha
