package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/testenv/golden"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIdentify(t *testing.T) {
	mc := "testdata/modcache/"
	for _, c := range []struct {
		name string
		text string
		want []string
	}{
		{"Expat", read(t, mc+"example.com/!big!co/lib@v1.2.3/COPYING"), []string{"Expat"}},
		{"Apache-2.0", read(t, mc+"example.org/apache@v0.1.0/LICENSE"), []string{"Apache-2.0"}},
		{"Go's BSD-3-clause", read(t, "testdata/goroot/LICENSE"), []string{"BSD-3-clause"}},
		{"BSD-2-clause then BSD-3-clause in one file", read(t, mc+"example.org/dual@v2.0.0/LICENSE"), []string{"BSD-2-clause", "BSD-3-clause"}},
		{"ISC", read(t, mc+"example.org/dual@v2.0.0/LICENSE-ISC"), []string{"ISC"}},
		{"a notice", read(t, mc+"example.org/apache@v0.1.0/NOTICE"), nil},
		{"a patent grant", read(t, "testdata/goroot/PATENTS"), nil},
		{"public domain", "The author disclaims copyright to this source code.\nIt is dedicated to the public domain.", []string{"public-domain"}},
		{"the Apache name alone is no licence", "Licensed under the Apache License, Version 2.0; see LICENSE.", nil},
		{"unknown", "All rights reserved.", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := identify(c.text); !slices.Equal(got, c.want) {
				t.Errorf("identify = %q, want %q", got, c.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/BurntSushi/toml": "github.com/!burnt!sushi/toml",
		"golang.org/x/sys":           "golang.org/x/sys",
		"v0.0.0-2019X":               "v0.0.0-2019!x",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func buildInfo(deps ...*debug.Module) *debug.BuildInfo {
	return &debug.BuildInfo{GoVersion: "go1.99.1", Path: "github.com/wnm-project/wnm/cmd/wnm", Deps: deps}
}

func TestGenerate(t *testing.T) {
	bi := buildInfo(
		&debug.Module{Path: "example.com/BigCo/lib", Version: "v1.2.3"},
		&debug.Module{Path: "example.org/apache", Version: "v0.1.0"},
		&debug.Module{Path: "example.org/replaced", Version: "v1.0.0", Replace: &debug.Module{Path: "example.org/dual", Version: "v2.0.0"}},
	)
	got, err := generate(bi, "testdata/modcache", "testdata/goroot", "wnm developers <developers@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	golden.Compare(t, filepath.Join("testdata", "copyright.golden"), got)
	s := string(got)
	for _, want := range []string{
		"Upstream-Contact: wnm developers <developers@example.org>\n",
		"Files: go/*\nCopyright: Copyright 2009 The Go Authors.\nLicense: BSD-3-clause\n",
		"Files: example.com/BigCo/lib/*\nCopyright: Copyright (C) 2024 Big Co\nLicense: Expat\n",
		"Files: example.org/apache/*\nCopyright: Copyright 2020 Example Authors\nLicense: Apache-2.0\n",
		"/usr/share/common-licenses/Apache-2.0",
		"Files: example.org/dual/*\n",
		"License: BSD-2-clause and BSD-3-clause and ISC\n The file LICENSE:\n",
		" Its file NOTICE:\n .\n Example Apache module\n",
		" Its file PATENTS:\n .\n Additional IP Rights Grant (Patents)\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in the copyright file", want)
		}
	}
	// Debian wants the common licences referred to, never copied; every paragraph is separated
	// by one empty line and every continuation line is indented.
	if strings.Contains(s, "TERMS AND CONDITIONS FOR USE, REPRODUCTION") {
		t.Error("the Apache licence is copied in full")
	}
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" || line[0] == ' ' || strings.Contains(line, ": ") || strings.HasSuffix(line, ":") {
			continue
		}
		t.Errorf("line %d is neither a field nor a continuation: %q", i+1, line)
	}
	if bytes.Contains(got, []byte("\n\n\n")) || bytes.Contains(got, []byte(" \n")) {
		t.Error("double empty lines or trailing white space")
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		bi     *debug.BuildInfo
		goroot string
		want   string
	}{
		{"a module without a licence", buildInfo(&debug.Module{Path: "example.org/bare", Version: "v1.0.0"}), "testdata/goroot",
			`module example.org/bare v1.0.0 (testdata/modcache/example.org/bare@v1.0.0): no licence identified among its files []`},
		{"a module not in the cache", buildInfo(&debug.Module{Path: "example.org/absent", Version: "v1.0.0"}), "testdata/goroot",
			"module example.org/absent v1.0.0 is not in the module cache testdata/modcache"},
		{"a module replaced by a directory", buildInfo(&debug.Module{Path: "example.org/x", Version: "v1.0.0", Replace: &debug.Module{Path: "../x"}}), "testdata/goroot",
			"module example.org/x is replaced by the directory ../x"},
		{"another Go", &debug.BuildInfo{GoVersion: "go1.98.0"}, "testdata/goroot",
			"the binary was built with go1.98.0, but the Go installation testdata/goroot is go1.99.1"},
		{"no Go installation", buildInfo(), "testdata/nowhere", "the Go installation testdata/nowhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := generate(c.bi, "testdata/modcache", c.goroot, "x <x@example.org>")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("generate = %q, %v; want an error with %q", out, err, c.want)
			}
		})
	}
}
