package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/bucketcache/bucketcache/fusefs"
)

// cmdMount serves the read-only view in the foreground until a signal or
// an unmount from outside.
func cmdMount(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("mount", flag.ContinueOnError)
	allowOther := fl.Bool("allow-other", false, "let other users use the mount (non-root: needs user_allow_other in /etc/fuse.conf)")
	debug := fl.Bool("debug", false, "log every FUSE request and reply to stderr")
	rest, err := parse(fl, args, stderr, "BUCKET_DIR", "MOUNTPOINT")
	if err != nil {
		return err
	}
	// Listen before mounting, so that a signal during the mount is not lost.
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	logger := log.New(stderr, "bucketfs: ", 0)
	srv, err := fusefs.Mount(rest[0], rest[1], fusefs.Options{
		AllowOther: *allowOther,
		Debug:      *debug,
		Logger:     logger,
	})
	if err != nil {
		return mountError(err)
	}
	fmt.Fprintf(stderr, "bucketfs: serving %s read-only on %s; interrupt (Ctrl-C) to unmount\n", rest[0], srv.Mountpoint())
	signals := 0
	for {
		select {
		case <-srv.Done():
			fmt.Fprintf(stderr, "bucketfs: %s unmounted\n", srv.Mountpoint())
			return nil
		case sig := <-sigs:
			signals++
			switch signals {
			case 1:
				err := srv.Unmount()
				if errors.Is(err, fusefs.ErrBusy) {
					found, hidden := holders("/proc", srv.Mountpoint())
					fmt.Fprintf(stderr, "bucketfs: %s\n", busyMessage(srv.Mountpoint(), found, hidden))
					continue
				}
				if err != nil {
					return err
				}
			case 2:
				err := srv.Unmount()
				if err == nil {
					continue // Done reports it
				}
				if !errors.Is(err, fusefs.ErrBusy) {
					return err
				}
				if err := srv.UnmountLazy(); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "bucketfs: %s detached; serving its last users until they let go (%v again to quit now)\n", srv.Mountpoint(), sig)
			default:
				return fmt.Errorf("quit on %v with %s still in use", sig, srv.Mountpoint())
			}
		}
	}
}
