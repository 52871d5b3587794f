package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"docplat/loadgen/jtl"
)

// jtlCmd runs `docplat-bench jtl summary [-json out.json] FILE.jtl`.
func jtlCmd(args []string) error {
	if len(args) == 0 || args[0] != "summary" {
		return errors.New("usage: docplat-bench jtl summary [-json out.json] FILE.jtl")
	}
	fs := flag.NewFlagSet("jtl summary", flag.ContinueOnError)
	jsonOut := fs.String("json", "", "also write the summary as JSON to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: docplat-bench jtl summary [-json out.json] FILE.jtl")
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("jtl summary: no results were written: %w", err)
	}
	defer f.Close()
	s, err := jtl.Summarize(f)
	if err != nil {
		return fmt.Errorf("jtl summary %s: %w", name, err)
	}
	fmt.Print(s.Table())
	if *jsonOut != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if s.Successes == 0 {
		return fmt.Errorf("jtl summary %s: %d samples and not one success", name, s.Total)
	}
	return nil
}
