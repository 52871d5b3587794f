package stats_test

import (
	"strings"
	"testing"

	"docplat/stats"
)

func TestPlacementCheck(t *testing.T) {
	const docsDSN = "root@tcp(127.0.0.1:3306)/docplat"
	brokers := []string{"127.0.0.1:9092"}
	for _, tc := range []struct {
		name    string
		p       stats.Placement
		docsDSN string
		secret  string
		brokers []string
		want    string // "" : accepted
	}{
		{"embedded", stats.Placement{}, "", "", nil, ""},
		{"own MariaDB database", stats.Placement{DB: stats.Config{MySQLDSN: "root@tcp(127.0.0.1:3306)/docplat_stats"}}, docsDSN, "", nil, ""},
		{"remote", stats.Placement{URL: "http://127.0.0.1:8090"}, docsDSN, "0123456789abcdef", brokers, ""},
		{"remote without secret", stats.Placement{URL: "http://127.0.0.1:8090"}, docsDSN, "", brokers, "internal-secret is required"},
		{"remote on an in-process broker", stats.Placement{URL: "http://127.0.0.1:8090"}, docsDSN, "0123456789abcdef", nil, "kafka-brokers is required"},
		{"MariaDB without a stats database", stats.Placement{}, docsDSN, "", nil, "stats-mysql-dsn is required"},
		{"the documents' own database", stats.Placement{DB: stats.Config{MySQLDSN: docsDSN}}, docsDSN, "", nil, "another database"},
	} {
		err := tc.p.Check(tc.docsDSN, tc.secret, tc.brokers)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
}
