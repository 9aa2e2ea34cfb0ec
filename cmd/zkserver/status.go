package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/zkgo/zkgo/config"
)

// fourLetterTimeout bounds one four-letter-word exchange, like the 5 s of
// Apache's FourLetterWordMain.
const fourLetterTimeout = 5 * time.Second

// statusTarget returns the host and port status asks, as zkServer.sh picks
// them: the client address of this server's server.N line when it has one,
// else clientPortAddress (or "localhost" when unset) and clientPort.
func statusTarget(cfg *config.Config) (host, port string) {
	host, port, err := net.SplitHostPort(cfg.ClientAddr())
	if err != nil || host == "" {
		host = "localhost"
	}
	return host, port
}

// fourLetterWord sends word to addr and returns the whole answer (the server
// closes the connection after answering).
func fourLetterWord(ctx context.Context, addr, word string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, word); err != nil {
		return "", fmt.Errorf("%s to %s: %w", word, addr, err)
	}
	b, err := io.ReadAll(conn)
	if err != nil && len(b) == 0 {
		return "", fmt.Errorf("%s to %s: %w", word, addr, err)
	}
	return string(b), nil
}

// parseMode returns the "Mode: ..." line of a srvr answer with its
// whitespace collapsed, as zkServer.sh's `grep Mode` + echo prints it.
func parseMode(srvr string) (string, bool) {
	for _, line := range strings.Split(srvr, "\n") {
		if strings.Contains(line, "Mode") {
			return strings.Join(strings.Fields(line), " "), true
		}
	}
	return "", false
}
