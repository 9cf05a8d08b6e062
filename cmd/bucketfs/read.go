package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// cmdLs lists the live entries, named as the mount names them.
func cmdLs(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ls", flag.ContinueOnError)
	long := fl.Bool("l", false, "also show content size, codec, written-at and expires-at")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR")
	if err != nil {
		return err
	}
	d, err := openView(rest[0])
	if err != nil {
		return err
	}
	defer d.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var errs []error
	for i := 0; i < d.Layout().Count(); i++ {
		entries, err := d.Entries(i)
		if err != nil {
			errs = append(errs, err)
		}
		for j := range entries {
			e := &entries[j]
			if !*long {
				fmt.Fprintln(w, e.Name)
				continue
			}
			n, err := d.ContentSize(e)
			if err != nil {
				continue // damaged or gone since: the mount would not show it either
			}
			expires := "never"
			if e.Header.ExpiresAt != 0 {
				expires = view.FormatTime(e.ExpiresAt())
			}
			fmt.Fprintf(w, "%10d  %-8s  %-30s  %-30s  %s\n", n, e.Header.Codec, view.FormatTime(e.WrittenAt()), expires, e.Name)
		}
	}
	return errors.Join(errs...)
}

// cmdGet prints one entry's content, as the mount shows it.
func cmdGet(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("get", flag.ContinueOnError)
	rest, err := parse(fl, args, stderr, "BUCKET_DIR", "NAME")
	if err != nil {
		return err
	}
	d, err := openView(rest[0])
	if err != nil {
		return err
	}
	defer d.Close()
	name := rest[1]
	e, err := d.Lookup(name)
	if errors.Is(err, view.ErrNotFound) {
		// A damaged entry is a miss here as everywhere; say why.
		if p, ok := view.ParseName(name); ok {
			if _, serr := d.Stat(p.Hash); shard.IsDamage(serr) {
				return fail(exitNoEntry, "%s: no live entry named %q: %s is damaged (%v); bucketfs verify -fix removes it",
					d.Path(), name, filepath.Join(d.Path(), d.Layout().EntryPath(p.Hash)), shard.ReasonOf(serr))
			}
		}
		return fail(exitNoEntry, "%s: no live entry named %q", d.Path(), name)
	}
	if err != nil {
		return err
	}
	c, err := d.OpenContent(e.Hash, e.Key)
	switch {
	case errors.Is(err, view.ErrNotFound):
		return fail(exitNoEntry, "%s: no live entry named %q", d.Path(), name)
	case shard.IsDamage(err):
		return fmt.Errorf("%s/%s: entry %q is damaged: %w", d.Path(), e.Path, name, err)
	case err != nil:
		return err
	}
	defer c.Close()
	w := bufio.NewWriterSize(stdout, 64<<10)
	if _, err := c.WriteTo(w); err != nil {
		return err
	}
	return w.Flush()
}
