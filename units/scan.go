package units

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/wnm-project/wnm/gen"
)

// ScanDir parses every regular file in dir whose name match accepts, with parse, and returns the
// node definitions sorted by id. Files that cannot be read or parsed are left out and reported
// together in err; the others are returned all the same. A missing dir holds nothing. The systemd
// and launchd managers use it to find units and plists for adoption.
func ScanDir(dir string, match func(name string) bool, parse func(name string, data []byte) (gen.Adopted, error)) ([]gen.Adopted, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	var nodes []gen.Adopted
	var errs []error
	for _, e := range entries {
		if !match(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a, err := parse(e.Name(), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		nodes = append(nodes, a)
	}
	slices.SortStableFunc(nodes, func(a, b gen.Adopted) int { return a.ID - b.ID })
	return nodes, errors.Join(errs...)
}
