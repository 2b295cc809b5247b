// Command gencopyright writes the Debian copyright file of the wnm package
// (/usr/share/doc/wnm/copyright, in the machine-readable format 1.0) for one built binary.
//
// wnm is one statically linked Go program: besides its own code it carries the Go standard
// library and runtime and every Go module it links. The file lists them from what the binary
// itself records (debug/buildinfo, the same as `go version -m`), with each module version's
// licence files from the Go module cache reproduced verbatim, so that it cannot drift from what
// is shipped. A module whose licence cannot be identified, a module missing from the cache, or
// a Go installation other than the one that built the binary is an error, and no file is
// written. The Apache License 2.0 is referred to in /usr/share/common-licenses, as Debian policy
// asks for the licences found there.
//
//	go run ./packaging/deb/gencopyright -binary build/package/wnm \
//	    -modcache "$(go env GOMODCACHE)" -goroot "$(go env GOROOT)" -contact "$DEB_MAINTAINER"
package main

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"
)

func main() {
	binary := flag.String("binary", "", "the built wnm binary")
	modcache := flag.String("modcache", "", "the Go module cache (go env GOMODCACHE)")
	goroot := flag.String("goroot", "", "the Go installation that built the binary (go env GOROOT)")
	contact := flag.String("contact", "", "Upstream-Contact: the maintainer, \"Name <address>\"")
	out := flag.String("o", "-", "output file; - for standard output")
	flag.Parse()
	if err := run(*binary, *modcache, *goroot, *contact, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gencopyright:", err)
		os.Exit(1)
	}
}

func run(binary, modcache, goroot, contact, out string) error {
	for _, f := range []struct{ name, v string }{{"-binary", binary}, {"-modcache", modcache}, {"-goroot", goroot}, {"-contact", contact}} {
		if f.v == "" {
			return fmt.Errorf("%s is required", f.name)
		}
	}
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("read the build information of %s: %w", binary, err)
	}
	text, err := generate(bi, modcache, goroot, contact)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(text)
		return err
	}
	return os.WriteFile(out, text, 0o644)
}

// generate returns the copyright file for a binary with the build information bi.
func generate(bi *debug.BuildInfo, modcache, goroot, contact string) ([]byte, error) {
	var comps []component
	goc, err := goComponent(goroot, bi.GoVersion)
	if err != nil {
		return nil, err
	}
	comps = append(comps, goc)
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Version == "" || strings.HasPrefix(m.Path, ".") || filepath.IsAbs(m.Path) {
			return nil, fmt.Errorf("module %s is replaced by the directory %s: its licence cannot be looked up by version", d.Path, m.Path)
		}
		c, err := moduleComponent(modcache, m.Path, m.Version)
		if err != nil {
			return nil, err
		}
		comps = append(comps, c)
	}
	return render(contact, comps)
}

// component is one part of the binary under its own terms: the Go distribution or a module.
type component struct {
	Pattern string // the Files: pattern naming it
	Name    string // "Go go1.26.8", "module github.com/x/y v1.2.3"
	Files   []licenceFile
}

// licenceFile is one licence or notice file of a component, with what it was identified as.
type licenceFile struct {
	Name     string   // the file's name in the module
	Text     string   // its text, verbatim
	Licences []string // the licences it grants, DEP-5 short names; none for a notice
}

// licenceName matches the names of licence and notice files in a module's top directory:
// LICENSE, COPYING, NOTICE, PATENTS and variants such as LICENSE.md, LICENSE-GO, SQLITE-LICENSE.
var licenceName = regexp.MustCompile(`(?i)^([a-z0-9]+[-_.])?(licen[cs]e|copying|copyright|notice|patents|unlicense)([-_.][a-z0-9._-]+)?$`)

// readLicenceFiles returns the licence and notice files of the directory dir, sorted by name,
// each identified. A directory with no identifiable licence is an error naming what it holds.
func readLicenceFiles(dir, what string) ([]licenceFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var files []licenceFile
	licensed := false
	for _, e := range entries {
		if !e.Type().IsRegular() || !licenceName.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		lf := licenceFile{Name: e.Name(), Text: string(b), Licences: identify(string(b))}
		licensed = licensed || len(lf.Licences) > 0
		files = append(files, lf)
	}
	if !licensed {
		var names []string
		for _, f := range files {
			names = append(names, f.Name)
		}
		return nil, fmt.Errorf("%s (%s): no licence identified among its files %q; add its licence to gencopyright's identify", what, dir, names)
	}
	return files, nil
}

func goComponent(goroot, goVersion string) (component, error) {
	b, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
	if err != nil {
		return component{}, fmt.Errorf("the Go installation %s: %w", goroot, err)
	}
	have, _, _ := strings.Cut(string(b), "\n")
	want, _, _ := strings.Cut(goVersion, " ") // "go1.26.8 X:…" with experiments
	if strings.TrimSpace(have) != want {
		return component{}, fmt.Errorf("the binary was built with %s, but the Go installation %s is %s", goVersion, goroot, have)
	}
	files, err := readLicenceFiles(goroot, "Go "+want)
	if err != nil {
		return component{}, err
	}
	return component{Pattern: "go/*", Name: "Go " + want + " (its standard library and runtime)", Files: files}, nil
}

func moduleComponent(modcache, path, version string) (component, error) {
	dir := filepath.Join(modcache, escape(path)+"@"+escape(version))
	what := "module " + path + " " + version
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return component{}, fmt.Errorf("%s is not in the module cache %s (go mod download %s@%s fetches it)", what, modcache, path, version)
	}
	files, err := readLicenceFiles(dir, what)
	if err != nil {
		return component{}, err
	}
	return component{Pattern: path + "/*", Name: what, Files: files}, nil
}

// escape is the module cache's case encoding: each upper-case letter becomes '!' and the letter
// in lower case, so that paths differing in case stay apart on case-insensitive file systems.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normal lowers the text and folds every run of white space, and the quote marks and
// punctuation variants licences come in, so that phrases can be looked for.
func normal(text string) string {
	text = strings.NewReplacer("“", `"`, "”", `"`, "’", "'", "*", " ", "#", " ").Replace(strings.ToLower(text))
	return strings.Join(strings.Fields(text), " ")
}

// identify returns the licences a licence file grants, as DEP-5 short names, in the order they
// appear; none for a notice (NOTICE, PATENTS) or a text it does not know.
func identify(text string) []string {
	n := normal(text)
	var found []string
	add := func(l string) {
		if !slices.Contains(found, l) {
			found = append(found, l)
		}
	}
	switch {
	case strings.Contains(n, "apache license") && strings.Contains(n, "version 2.0") &&
		strings.Contains(n, "terms and conditions for use, reproduction, and distribution"):
		add("Apache-2.0")
	case strings.Contains(n, "mozilla public license") && strings.Contains(n, "version 2.0"):
		add("MPL-2.0")
	}
	if strings.Contains(n, "permission is hereby granted, free of charge, to any person obtaining a copy") {
		add("Expat")
	}
	if strings.Contains(n, "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted") ||
		strings.Contains(n, "permission to use, copy, modify, and distribute this software for any purpose with or without fee is hereby granted") {
		add("ISC")
	}
	// BSD: one clause set per "redistribution and use" grant; a file may hold several (a 2-clause
	// licence followed by the Go authors' 3-clause one).
	const bsd = "redistribution and use in source and binary forms, with or without modification, are permitted provided that"
	parts := strings.Split(n, bsd)
	for _, p := range parts[1:] {
		if i := strings.Index(p, "this software is provided"); i >= 0 {
			p = p[:i]
		}
		if strings.Contains(p, "neither the name") || strings.Contains(p, "neither the names") ||
			strings.Contains(p, "the name of the author may not be used") || strings.Contains(p, "names of its contributors may not be used") {
			add("BSD-3-clause")
		} else {
			add("BSD-2-clause")
		}
	}
	if strings.Contains(n, "dedicated to the public domain") || strings.Contains(n, "is public domain") {
		add("public-domain")
	}
	return found
}

// copyrightLine matches a copyright statement: "Copyright (c) 2013, Name", "Copyright 2009 The Go
// Authors", "© 2020 Name"; not the template lines of licence texts ("Copyright [yyyy] [name]").
var copyrightLine = regexp.MustCompile(`(?i)^\s*(copyright\s*(\(c\)|©)?\s*(\d{4}|\(c\))|©\s*\d{4}).*$`)

// holders returns the copyright statements in a component's files, in order, without repeats.
func (c component) holders() []string {
	var out []string
	for _, f := range c.Files {
		for _, line := range strings.Split(f.Text, "\n") {
			if copyrightLine.MatchString(line) {
				s := strings.Join(strings.Fields(line), " ")
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// licences returns the component's licence expression: the licences its files grant, joined
// with "and" (they all apply, each to its part).
func (c component) licences() string {
	var all []string
	for _, f := range c.Files {
		for _, l := range f.Licences {
			if !slices.Contains(all, l) {
				all = append(all, l)
			}
		}
	}
	return strings.Join(all, " and ")
}

// commonLicences are those Debian ships in /usr/share/common-licenses, which a copyright file
// must refer to rather than copy.
var commonLicences = map[string]string{"Apache-2.0": "Apache-2.0"}

// licenceBody is the License: field's text: each licence file verbatim, under its name when
// there are several, or the reference to /usr/share/common-licenses for a licence found there.
func (c component) licenceBody() string {
	var parts []string
	var granting []licenceFile
	for _, f := range c.Files {
		if len(f.Licences) > 0 {
			granting = append(granting, f)
		}
	}
	for _, f := range granting {
		text := f.Text
		if len(f.Licences) == 1 {
			if common, ok := commonLicences[f.Licences[0]]; ok {
				text = fmt.Sprintf("On Debian systems, the complete text of this licence (%s, the file %s of\nthe module) can be found in \"/usr/share/common-licenses/%s\".", f.Licences[0], f.Name, common)
			}
		}
		if len(granting) > 1 {
			text = "The file " + f.Name + ":\n\n" + text
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "\n\n")
}

// notices is the Comment: field's text: the component and its files that grant no licence
// (NOTICE, PATENTS), verbatim.
func (c component) notices() string {
	s := "Part of /usr/bin/wnm: " + c.Name + "."
	for _, f := range c.Files {
		if len(f.Licences) == 0 {
			s += "\n\nIts file " + f.Name + ":\n\n" + f.Text
		}
	}
	return s
}

// header is wnm's own part of the file.
const header = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: wnm
Upstream-Contact: %s
Source: https://github.com/wnm-project/wnm
Comment: /usr/bin/wnm is one statically linked Go program. Besides wnm's own code it
 contains the Go standard library and runtime and the Go modules listed below, each
 under its own terms. This file is generated when the package is built, from the
 modules recorded in that binary and the licence files of those module versions,
 which it reproduces verbatim. The Files: patterns name the Go module paths.

Files: *
Copyright: 2025-2026 wnm developers
License: GPL-3
 This program is free software: you can redistribute it and/or modify
 it under the terms of the GNU General Public License as published by
 the Free Software Foundation, version 3.
 .
 This program is distributed in the hope that it will be useful,
 but WITHOUT ANY WARRANTY; without even the implied warranty of
 MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 GNU General Public License for more details.
 .
 On Debian systems, the complete text of the GNU General Public License
 version 3 can be found in "/usr/share/common-licenses/GPL-3".
`

// render writes the copyright file: wnm's paragraph, then one Files paragraph per component
// (the Go distribution first, then the modules in the binary's order, which is sorted).
func render(contact string, comps []component) ([]byte, error) {
	if strings.ContainsAny(contact, "\n\r") {
		return nil, fmt.Errorf("-contact %q spans lines", contact)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, header, contact)
	for _, c := range comps {
		holders := c.holders()
		if len(holders) == 0 {
			holders = []string{"the authors of " + c.Name + " (its licence files name no holder)"}
		}
		b.WriteString("\nFiles: " + c.Pattern + "\n")
		b.WriteString("Copyright:")
		for i, h := range holders {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(" " + h)
		}
		b.WriteString("\nLicense: " + c.licences() + "\n")
		writeBody(&b, c.licenceBody())
		b.WriteString("Comment:")
		writeBody(&b, c.notices())
	}
	return b.Bytes(), nil
}

// writeBody writes text as the continuation lines of a field: each line indented by one space,
// an empty line as " .", trailing white space and leading and trailing empty lines dropped.
// A first line of a Comment: goes on the field's own line.
func writeBody(w io.Writer, text string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRightFunc(lines[i], unicode.IsSpace)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		if l == "" {
			l = "."
		}
		fmt.Fprintf(w, " %s\n", l)
	}
}
