package linodetest

import "github.com/org/platform/pkg/linodetest/internal/contract"

func init() {
	contractLoader = func(p string) (responseValidator, error) {
		v, err := contract.Load(p)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	errUnknownOperation = contract.ErrUnknownOperation
}
