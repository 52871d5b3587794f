package s3blob

import (
	"io"
	"testing"

	"docplat/blob"
	"docplat/blob/blobtest"
)

// BenchmarkRead reads one blob whole (open, copy, close), 10 KB and 10 MB,
// from the directory backend (the baseline: a file in the page cache) and
// from MinIO on loopback (one GET, erasure-coded over four directories),
// in the same run: `make bench-blob` prints the MB/s and the ratio.
func BenchmarkRead(b *testing.B) {
	cfg := config(b)
	s3 := blob.New(open(b, cfg, nil))
	dir, err := blob.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"10KB", 10 << 10}, {"10MB", 10 << 20}} {
		content := blobtest.Content(size.n, 1)
		for _, st := range []struct {
			name string
			s    *blob.Store
		}{{"baseline-dir", dir}, {"s3", s3}} {
			sha := blobtest.Put(b, st.s, content)
			b.Run(size.name+"/"+st.name, func(b *testing.B) {
				b.SetBytes(int64(size.n))
				buf := make([]byte, 32<<10)
				for b.Loop() {
					o, err := st.s.Open(sha)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, o, buf)
					o.Close()
					if err != nil || n != int64(size.n) {
						b.Fatalf("read %d bytes: %v", n, err)
					}
				}
			})
		}
	}
}
