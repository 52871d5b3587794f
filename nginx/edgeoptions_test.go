package nginx_test

import (
	"strings"
	"testing"

	"docplat/nginx"
)

func TestEdgeOptionsValidate(t *testing.T) {
	good := nginx.EdgeOptions{Admins: []string{"http://127.0.0.1:8081"}, ReadTokenSecret: "0123456789abcdef", MaxEntryBytes: 1 << 20}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(*nginx.EdgeOptions)
		want string
	}{
		"admin without scheme": {func(o *nginx.EdgeOptions) { o.Admins = []string{"127.0.0.1:8081"} }, "Admins"},
		"admin over https":     {func(o *nginx.EdgeOptions) { o.Admins = []string{"https://127.0.0.1:8081"} }, "Admins"},
		"short token secret":   {func(o *nginx.EdgeOptions) { o.ReadTokenSecret = "short" }, "ReadTokenSecret"},
		"no entry size":        {func(o *nginx.EdgeOptions) { o.MaxEntryBytes = 0 }, "MaxEntryBytes"},
		"entries over 64 MiB":  {func(o *nginx.EdgeOptions) { o.MaxEntryBytes = 65 << 20 }, "MaxEntryBytes"},
	} {
		o := good
		tc.edit(&o)
		if err := o.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want+" ") {
			t.Errorf("%s: Validate() = %v, want an error starting with %q", name, err, tc.want)
		}
	}
}

func TestEdgesAreOnePerAdmin(t *testing.T) {
	o := nginx.EdgeOptions{Admins: []string{"http://127.0.0.1:8081", "http://127.0.0.1:8082"}}
	edges, hits := o.Edges("0123456789abcdef")
	if len(edges) != 2 || len(hits) != 2 || edges[1].Name() != "http://127.0.0.1:8082" {
		t.Fatalf("edges %v, hit sources %v: want one of each per admin URL", edges, hits)
	}
	if e, h := (nginx.EdgeOptions{}).Edges("x"); e != nil || h != nil {
		t.Fatal("no admins gave edges")
	}
}
