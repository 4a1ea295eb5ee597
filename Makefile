# The two commands a newcomer needs are `go run ./examples/production` and
# `make test`; everything else here serves those two.
SHELL := /bin/bash
GO ?= go
# Where integration tests append how many of them ran (summed by `make test`).
REPORT ?= $(CURDIR)/.cache/integration-report.txt

.PHONY: test unit shared controlplane vet vuln bench faults run clean-report

## test: the full suite — shared upstream files, the local Kubernetes control
## plane (built once per machine into the user cache), vet, unit and
## integration tests. CI runs exactly this through .ci/run. The -race pass
## leaves out internal/baselinetest (every chart installed twice: minutes
## under the race detector, and nothing concurrent of ours in it).
# REQUIRE demands what the suite needs instead of skipping without it: the
# control plane, the shared upstream files and, in the simulator, Linode's
# OpenAPI description for contract validation of every response.
REQUIRE := PLATFORM_REQUIRE_CONTROLPLANE=1 PLATFORM_REQUIRE_SHARED=1 LINODETEST_REQUIRE_CONTRACT=1

test: shared controlplane vet lint-workflows clean-report
	$(REQUIRE) PLATFORM_INTEGRATION_REPORT=$(REPORT) \
	  $(GO) test -count=1 -timeout 45m ./...
	$(REQUIRE) $(GO) test -count=1 -race -timeout 20m ./pkg/linodetest/... $$($(GO) list ./internal/... | grep -v /internal/baselinetest)
	@bash hack/integration-report.sh $(REPORT)

## unit: plain `go test ./...` (integration tests skip without the control plane).
unit:
	$(GO) test ./...

## shared: make sure Linode's OpenAPI files and the chart repository are
## reachable (../shared, $$PLATFORM_SHARED_DIR, or fetched from upstream).
shared:
	@bash hack/fetch-shared.sh

## controlplane: build kube-apiserver, controller-manager, scheduler, etcd
## and kwok from the Go module proxy into the user cache (once per machine).
controlplane:
	@bash hack/controlplane.sh

vet:
	$(GO) vet ./...

## lint-workflows: actionlint v1.7.12 (from the Go module proxy) over
## .github/workflows, with shellcheck on run: scripts when it is installed.
## internal/workflows runs the same checks, and lints actions/*/action.yml,
## under `go test`.
.PHONY: lint-workflows
lint-workflows:
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

## vuln: govulncheck against the offline vulnerability database in ../shared.
vuln:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db "file://$$(realpath ../shared/vulndb)" ./...

## bench: the benchmarks the issues ask for (medians over 5 runs).
bench:
	$(GO) test -run '^$$' -bench . -count 5 ./pkg/... | tee bench.txt

## faults: the fault sweeps whole — a fault at every write k of every layer
## (CI runs every k of the Linode layer, a sample of 20 on Kubernetes, and
## 3 of TestFaultAtEveryLayer's 23 across Linode, Kubernetes and Helm with
## the lock).
faults: shared controlplane
	$(REQUIRE) PLATFORM_FAULT_K=all $(GO) test -count=1 -timeout 120m -run 'TestFault|TestFaultAtEveryLayer' ./pkg/rollout/ ./pkg/cluster/ ./pkg/network/

## rollback-drill: provision production on the simulator with its baseline
## on a local control plane, resize a pool and upgrade a release, roll back
## to the snapshot taken before (rollout.PlanRollback, then Apply) and check
## the environment equals it; a rollback across an irreversible change is
## refused with 0 writes. The workflow rollback-drill.yml runs it monthly.
.PHONY: rollback-drill
rollback-drill: shared controlplane
	$(REQUIRE) $(GO) test -count=1 -timeout 15m -v -run 'TestRollback' ./pkg/rollout/

## run: the main job, against the in-process Linode simulator unless
## LINODE_TOKEN is set.
run:
	$(GO) run ./examples/production

clean-report:
	@mkdir -p $(dir $(REPORT)) && rm -f $(REPORT)
