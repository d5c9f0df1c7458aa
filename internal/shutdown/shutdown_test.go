package shutdown_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sessiongrid/sessiongrid/internal/shutdown"
)

func TestWaitReturnsWhenTheGroupIsDone(t *testing.T) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Go(func() { <-release })
	close(release)
	if err := shutdown.Wait(context.Background(), &wg); err != nil {
		t.Fatalf("Wait = %v, want nil", err)
	}
}

func TestWaitReturnsWhenTheContextEnds(t *testing.T) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	defer func() { close(release); wg.Wait() }()
	wg.Go(func() { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := shutdown.Wait(ctx, &wg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}
