package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/store"
)

// maxDeliveries bounds how often one copy of a job is delivered without
// finishing (crashes, deferrals) before it is given up: a job that brings
// the process down must not do so forever.
const maxDeliveries = 200

// Run starts this node's workers. They take jobs from the queue, at most
// Concurrency at a time, until ctx is done; Wait returns once they have
// stopped.
func (s *Service) Run(ctx context.Context) error {
	return s.cfg.Queue.Consume(ctx, s.cfg.Concurrency, func(j store.Job) {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			_ = j.Retry(0) // to another node, now
			return
		}
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			defer func() { <-s.slots }()
			s.handle(ctx, j)
		}()
	})
}

// Wait blocks until every worker has stopped (after Run's ctx is done).
// Calls in flight are cut short by ctx and handed back to the queue.
func (s *Service) Wait() {
	s.stopped.Do(func() {
		// Taking every slot means no worker holds one, nor takes one.
		for range cap(s.slots) {
			s.slots <- struct{}{}
		}
		s.running.Wait()
		s.caller.close()
	})
}

func (s *Service) handle(ctx context.Context, qj store.Job) {
	var j job
	if err := json.Unmarshal(qj.Data(), &j); err != nil || j.ID == "" {
		s.log.Error("webhooks: dropping an unreadable job", "err", err)
		_ = qj.Drop()
		return
	}
	if qj.Delivered() > maxDeliveries {
		s.giveUp(ctx, qj, j, response{}, "the delivery was deferred or interrupted too many times")
		return
	}
	if wait := j.NotBefore.Sub(s.cfg.Now()); wait > 0 {
		_ = qj.Retry(wait)
		return
	}
	w, err := s.cfg.Widgets.Get(j.Account, j.Widget)
	if err != nil && qj.Delivered() < 3 {
		// Perhaps created on another node a moment ago, not yet here.
		_ = qj.Retry(time.Second)
		return
	}
	if err != nil {
		s.giveUp(ctx, qj, j, response{}, "the widget was deleted")
		return
	}
	// The owner may have changed the widget's hosts since it was queued.
	if u, err := url.Parse(j.URL); err != nil || allowedURL(u, w, s.cfg.AllowHTTP) != nil || w.WebhookSecret == "" {
		s.giveUp(ctx, qj, j, response{}, "the widget may no longer call this URL")
		return
	}
	if !s.limits.acquire(j.Widget) {
		// Its other calls are slow: let other widgets' jobs pass.
		s.metrics.deferred.Add(1)
		_ = qj.Retry(deferral(qj.Delivered()))
		return
	}
	defer s.limits.release(j.Widget)
	_ = qj.Touch() // the ack wait starts over with the call

	header := http.Header{
		"Content-Type":  {"application/json"},
		"User-Agent":    {"Tidings-Webhooks/1"},
		DeliveryHeader:  {j.ID},
		AttemptHeader:   {strconv.Itoa(j.Attempt)},
		SignatureHeader: {Sign(w.WebhookSecret, s.cfg.Now(), j.Body)},
	}
	res, err := s.caller.post(ctx, j.URL, header, j.Body, func(u *url.URL) error {
		return allowedURL(u, w, s.cfg.AllowHTTP)
	})
	_ = qj.Touch() // and again for what follows the call
	switch {
	case err != nil && ctx.Err() != nil:
		_ = qj.Retry(0) // shutting down: not an attempt, hand it on
	case err != nil && permanent(err):
		if errors.Is(err, ErrRefused) {
			s.metrics.refused.Add(1)
		}
		s.log.Warn("webhooks: call refused", "delivery", j.ID, "url", j.URL, "err", err)
		s.giveUp(ctx, qj, j, response{}, describe(err))
	case err != nil:
		s.failed(ctx, qj, j, response{}, describe(err))
	case retryable(res.status):
		s.failed(ctx, qj, j, res, "the receiver answered "+strconv.Itoa(res.status)+" "+http.StatusText(res.status))
	default:
		s.metrics.delivered.Add(1)
		s.finish(ctx, qj, j, res, "")
	}
}

// failed schedules the next attempt, or gives up when none is left.
func (s *Service) failed(ctx context.Context, qj store.Job, j job, res response, why string) {
	if j.Attempt >= s.cfg.Attempts {
		if j.Attempt > 1 {
			why += fmt.Sprintf(" (after %d attempts)", j.Attempt)
		}
		s.giveUp(ctx, qj, j, res, why)
		return
	}
	delay := s.backoff(j.Attempt)
	next := j
	next.Attempt++
	next.NotBefore = s.cfg.Now().Add(delay)
	next.LastStatus, next.LastError = res.status, why
	data, _ := json.Marshal(next)
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.cfg.Queue.Enqueue(ectx, next.queueID(), data); err != nil {
		// Try this attempt again later instead; its count is unchanged.
		s.log.Warn("webhooks: scheduling a retry", "delivery", j.ID, "err", err)
		_ = qj.Retry(delay)
		return
	}
	s.metrics.retried.Add(1)
	_ = qj.Ack()
}

// giveUp keeps a dead-letter record and tells the requester.
func (s *Service) giveUp(ctx context.Context, qj store.Job, j job, res response, why string) {
	dead, _ := json.Marshal(deadLetter{job: j, FailedAt: s.cfg.Now().UTC(), Status: res.status, Error: why})
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.cfg.Queue.Bury(bctx, j.ID, dead); err != nil {
		s.log.Error("webhooks: dead letter", "delivery", j.ID, "err", err)
		_ = qj.Retry(time.Second)
		return
	}
	s.metrics.failed.Add(1)
	s.finish(ctx, qj, j, res, why)
}

// finish sends the result to the requester, then acknowledges the job.
// Should the result not go out, the job comes back and is done again.
func (s *Service) finish(ctx context.Context, qj store.Job, j job, res response, why string) {
	var request struct {
		Message json.RawMessage `json:"message"`
	}
	_ = json.Unmarshal(j.Body, &request)
	result := Result{
		DeliveryID: j.ID, URL: j.URL, OK: why == "" && res.status/100 == 2, Status: res.status,
		Body: resultBody(res), Truncated: res.truncated, Error: why, Attempts: j.Attempt,
		Request: request.Message,
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	for try := 1; try <= 3; try++ {
		if err = s.cfg.Results.SendResult(fctx, j.Stream, j.User, "whr:"+j.ID, result); err == nil || try == 3 {
			break
		}
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
	if err != nil {
		s.log.Error("webhooks: sending a result", "delivery", j.ID, "err", err)
		_ = qj.Retry(5 * time.Second)
		return
	}
	_ = qj.Ack()
}

// backoff is the wait after failed attempt n (from 1): Backoff doubled n-1
// times, bounded by MaxBackoff, plus up to 10% so retries spread out.
func (s *Service) backoff(n int) time.Duration {
	d := s.cfg.Backoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d + rand.N(d/10+1)
}

// deferral is how long a job waits when its widget is at its in-flight cap:
// a little longer each time it is put back.
func deferral(delivered int) time.Duration {
	return min(100*time.Millisecond<<min(delivered, 6), 5*time.Second)
}
