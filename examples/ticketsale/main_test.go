package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/zktest"
)

var saleLine = regexp.MustCompile(`^seller-([0-9]+) sold ticket ([0-9]+)$`)

// TestTicketSale: 4 sellers sell 60 tickets; each ticket is sold exactly
// once (a lost lock would show as a ticket sold twice, since the count is
// written with version -1), and the count ends at 0.
func TestTicketSale(t *testing.T) {
	const tickets, sellers = 60, 4
	srv := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx, "/sale/count", []byte(strconv.Itoa(tickets)), client.WithParents()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := []string{"-server", srv.Addr(), "-lock", "/sale/lock", "-count", "/sale/count", "-sellers", strconv.Itoa(sellers)}
	if err := run(ctx, args, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	sold := make(map[int]string)
	bySeller := make(map[string]int)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		m := saleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad output line %q", line)
		}
		n, _ := strconv.Atoi(m[2])
		if prev, dup := sold[n]; dup {
			t.Fatalf("ticket %d sold twice (seller-%s and %s)", n, m[1], prev)
		}
		sold[n] = "seller-" + m[1]
		bySeller[m[1]]++
	}
	for n := 1; n <= tickets; n++ {
		if _, ok := sold[n]; !ok {
			t.Errorf("ticket %d not sold", n)
		}
	}
	if len(sold) != tickets {
		t.Fatalf("%d tickets sold, want %d", len(sold), tickets)
	}
	data, _, err := c.Get(ctx, "/sale/count")
	if err != nil || string(data) != "0" {
		t.Fatalf("count after the sale %q (%v), want 0", data, err)
	}
	t.Logf("sales per seller: %v", bySeller)
}

func TestTicketSaleFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-server", "x:1"}, &out)
	if err == nil {
		t.Fatal("run without -lock and -count succeeded")
	}
}
