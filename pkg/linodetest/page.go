package linodetest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// Paging limits of the API.
const (
	DefaultPageSize = 100
	MinPageSize     = 25
	MaxPageSize     = 500
)

type pageRequest struct {
	page, size int
}

// listEnvelope is the API's paged list envelope.
type listEnvelope struct {
	Data    []any `json:"data"`
	Page    int   `json:"page"`
	Pages   int   `json:"pages"`
	Results int   `json:"results"`
}

func parsePage(q url.Values) (pageRequest, response, bool) {
	pg := pageRequest{page: 1, size: DefaultPageSize}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pg, badRequest(fieldErr("page", "Must be an integer greater than or equal to 1")), false
		}
		pg.page = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinPageSize || n > MaxPageSize {
			return pg, badRequest(fieldErr("page_size", "Must be an integer between 25 and 500")), false
		}
		pg.size = n
	}
	return pg, response{}, true
}

// pageList filters, orders and pages items. Items arrive in the list's
// default order.
func pageList(items []any, f *filter, pg pageRequest, descending bool) response {
	if descending {
		rev := make([]any, len(items))
		for i, it := range items {
			rev[len(items)-1-i] = it
		}
		items = rev
	}
	if f != nil && (len(f.conds) > 0 || f.orderBy != "") {
		maps, err := toMaps(items)
		if err != nil {
			return errResponse(http.StatusInternalServerError, apiError{Reason: "simulator: " + err.Error()})
		}
		type pair struct {
			item any
			m    map[string]any
		}
		kept := make([]pair, 0, len(items))
		for i, m := range maps {
			if andCond(f.conds).eval(m) {
				kept = append(kept, pair{items[i], m})
			}
		}
		if f.orderBy != "" {
			sort.SliceStable(kept, func(i, j int) bool {
				a, _ := lookup(kept[i].m, f.orderBy)
				b, _ := lookup(kept[j].m, f.orderBy)
				r := compare(a, b)
				if f.desc {
					return r == 1
				}
				return r == -1
			})
		}
		items = items[:0:0]
		for _, p := range kept {
			items = append(items, p.item)
		}
	}
	total := len(items)
	pages := (total + pg.size - 1) / pg.size
	if pages < 1 {
		pages = 1
	}
	lo, hi := total, total
	if pg.page <= pages {
		lo = (pg.page - 1) * pg.size
		hi = min(lo+pg.size, total)
	}
	data := items[lo:hi]
	if data == nil {
		data = []any{}
	}
	return ok(listEnvelope{Data: data, Page: pg.page, Pages: pages, Results: total})
}
