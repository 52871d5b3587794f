// Command nethttpd is the suite's nethttp baseline: a bare net/http handler
// serving one file's bytes from memory. It runs as a process of its own so
// that its CPU is measured apart from the load generator's.
//
//	nethttpd ADDR FILE   (prints "listening ADDR" once it accepts)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: nethttpd ADDR FILE")
		os.Exit(2)
	}
	content, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening", l.Addr())
	length := strconv.Itoa(len(content))
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(content)
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
