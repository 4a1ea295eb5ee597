// Command chartindex writes a Helm repository index.yaml for a directory of
// packaged charts, as `helm repo index` does; hack/fetch-shared.sh uses it.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/repo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chartindex DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	idx, err := repo.IndexDirectory(dir, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "index %s: %v\n", dir, err)
		os.Exit(1)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "write index: %v\n", err)
		os.Exit(1)
	}
}
