package contract_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/linodetest/internal/contract"
)

func Example() {
	path, err := shared.Find("linode-api/openapi.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := contract.Load(path) // memoized: later calls share this load
	if err != nil {
		fmt.Println(err)
		return
	}
	h := http.Header{"Content-Type": {"application/json"}}

	// tier and status are in the API and linodego, not in the 4.189 spec: the overlay adds them.
	fmt.Println(v.ValidateResponse("GET", "/v4beta/lke/clusters/1", 200, h,
		[]byte(`{"id":1,"label":"prod","status":"ready","tier":"standard","created":"2018-01-02T03:04:05"}`)))

	err = v.ValidateResponse("GET", "/v4beta/lke/clusters/1", 200, h, []byte(`{"id":"1"}`))
	fmt.Println(errors.Is(err, contract.ErrContract))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// get-lke-cluster (GET /{apiVersion}/lke/clusters/{clusterId}) status 200: response breaks the Linode API contract: response body doesn't match schema: Error at "/id": value must be an integer
}
