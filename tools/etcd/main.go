// Command etcd runs a single-member etcd server for local test control
// planes. It wraps go.etcd.io/etcd/server/v3/embed because the etcd server
// module cannot be installed with go install (its go.mod has replace
// directives). It serves plain HTTP and is meant for loopback use only.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	cfg := embed.NewConfig()
	flag.StringVar(&cfg.Dir, "data-dir", "", "Path to the data directory (required).")
	client := flag.String("listen-client-url", "http://127.0.0.1:2379", "URL to serve clients on; also advertised.")
	peer := flag.String("listen-peer-url", "http://127.0.0.1:2380", "URL to serve peers on; also advertised.")
	flag.BoolVar(&cfg.UnsafeNoFsync, "unsafe-no-fsync", false, "Disable fsync: faster, loses data on a crash.")
	flag.StringVar(&cfg.LogLevel, "log-level", "warn", "debug, info, warn or error.")
	flag.Parse()
	if err := run(cfg, *client, *peer); err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		os.Exit(1)
	}
}

func run(cfg *embed.Config, client, peer string) error {
	if cfg.Dir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	c, err := url.Parse(client)
	if err != nil {
		return fmt.Errorf("parse --listen-client-url: %w", err)
	}
	p, err := url.Parse(peer)
	if err != nil {
		return fmt.Errorf("parse --listen-peer-url: %w", err)
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*c}, []url.URL{*c}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*p}, []url.URL{*p}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	defer e.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintln(os.Stderr, "etcd: ready to serve clients on", client)
	case err := <-e.Err():
		return fmt.Errorf("serve: %w", err)
	case <-sig:
		return nil
	}
	select {
	case err := <-e.Err():
		return fmt.Errorf("serve: %w", err)
	case <-sig:
		return nil
	}
}
