"""Queue statistics computed from the ticket event log.

Every figure is rebuilt from `ticket_events` (plus `ticket_procedures` for which procedures a
ticket handled, and each ticket's issue day and hour); nothing is averaged from averages.

Which tickets
    A range `date_from`..`date_to` (both inclusive) selects the tickets ISSUED on those days in the
    centre's time zone (`tickets.local_day`, fixed when the ticket is issued). Everything that
    happens to such a ticket counts for its issue day, even if it is finished after midnight.
    Pass the centre's own zone as `tz`: stored issue days and hours are in it, and `tz` turns the
    other instants (finish hours, journal times, "today") into local time.

Per ticket (from its events, in log order)
    Events are replayed in the order they were written (`ticket_events.id`), never by their clock
    time: a clock stepped back (NTP, a manual fix) must not reorder a ticket's history. Every
    duration below is clamped at 0, so such a step gives a wait of 0, never a negative one (a 0
    wait is within any target wait).
    A *visit* is one stay at a counter: it begins with a call (`called` or
    `called_out_of_order`) and ends with `finished`, `no_show`, `transferred` or
    `returned_on_sign_out` (or `expired`, when the day closed on a called ticket); `recalled` and `started` belong to the open visit and `rated` to the
    last one. A ticket that is transferred or returned to the queue has several visits.
    - wait    = first call − issue (the `issued` event), for every called ticket, no-shows included.
    - walk    = start − the call that opened the visit; a ticket's walk is the sum over its
                started visits (one visit for nearly every ticket).
    - service = finish − start; a ticket's service time is the sum of its serving periods
                (start → end of each started visit), counted only for finished tickets
                (status done). A ticket that handled several procedures still has ONE service
                time: it counts once per ticket everywhere, and once for each of its procedures
                in the per-procedure breakdown.
    - status  = the status after its last event: done ("served"), no_show, or still open. A no-show
                restored (`restored`, issue 11) waits again: if it is then served it counts as
                served, not as a no-show; its wait stays first call − issue, and it counts once as
                called. Its first visit still counts as a no-show visit at that counter and clerk.
    - transferred = the ticket was transferred (to a service or a counter) at least once.

Ticket breakdowns: service, hour, day, weekday_hour and summary()
    One row counts each ticket once. `service` is the service the ticket was ISSUED for (where
    its wait happened), even if it was later transferred elsewhere; `hour` is the local hour of
    issue (08 = 08:00–08:59); `day` the local issue day; `weekday_hour` the issue weekday and hour
    (key "1-08" = Monday 08:00, 7 = Sunday).
    issued = tickets; called = tickets called at least once; served = finished tickets;
    no_show = tickets that ended as no-shows; expired = tickets still waiting or called when the
    day closed (issued, never served; their wait is not counted unless they had been called);
    transferred = tickets transferred at least once.

Procedure breakdown
    A row holds the finished tickets that handled that procedure (a ticket with two procedures is
    in two rows, with its whole wait, walk and service time in each). issued is None (tickets
    are issued for services, not procedures); called = served = those tickets; no_show = 0.

Counter and clerk breakdowns (visits)
    A row holds the visits at that counter (or with that clerk). called = visits; served = visits
    ended by `finished` there; no_show = visits ended by `no_show` there; transferred = visits
    ended by a transfer away from there; expired = visits the day's close ended there; issued is None. service = finish − start of the visits
    finished there; walk = start − call of the visits started there; wait and SLA count only a
    ticket's FIRST visit (its first call happened there); ratings count at the counter and clerk
    that finished the ticket. So a transferred ticket is one transfer at the first counter and one
    call (and usually one service) at the next.

Rates (percentages 0–100, rounded to 0.1; None when the denominator is 0)
    sla_pct          = tickets whose wait ≤ the target wait (`services.target_wait_s`, as set now)
                       of the service they were issued for / tickets with a wait.
    no_show_pct      = no_show / called.
    satisfaction_pct = (ratings 3 "Rất hài lòng" + ratings 2 "Hài lòng") / ratings.
    ratings          = {"1": n, "2": n, "3": n}.
    procedures_per_ticket = procedures handled / served (rounded to 0.01), None when none served.

Mean, median and p90 (seconds, rounded to 0.1; None for an empty set)
    Exact, over the individual tickets (or visits) of the row. The q-quantile of the n sorted
    values x[0..n-1] is linear interpolation between closest ranks (numpy's default, Excel's
    PERCENTILE.INC): h = (n − 1)·q, value = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). The median is
    q = 0.5 (the middle value, or the mean of the two middle values); p90 is q = 0.9.

Rows of compute(by=...)
    Every row has key, label, issued, called, served, no_show, expired, transferred, wait_s, service_s,
    walk_s ({mean, median, p90}), sla_pct, no_show_pct, satisfaction_pct, ratings and
    procedures_per_ticket. Empty keys are listed too, with zero counts and None figures:
    - service: every active service (and any other with tickets) in display order; key = code,
      label = name.
    - procedure: every active procedure (and any other with tickets); key = code, label = name,
      plus `service` (its service's code).
    - counter: every active counter; key = counter number, label "Quầy N – name", plus
      `counter_id`.
    - clerk: every active clerk account and anyone else with visits; key = username, label =
      display name, plus `user_id`.
    - hour: 24 rows, key 0..23, label "08:00".
    - day: one row per date of the range, key "2026-03-02", label "02/03/2026 (T2)".
    - weekday_hour: 7 × 24 rows, key "1-08", label "T2 08:00", plus `weekday` (1 Monday ..
      7 Sunday) and `hour`.

Other figures
    today_kpis: `day` = today in `tz`; waiting_now = today's tickets waiting at this moment;
    serving_now = today's tickets called or being served; longest_wait_s = now − issue of the oldest
    waiting ticket (None when none wait); issued, called, served, no_show, mean_wait_s,
    median_wait_s, sla_pct and satisfaction_pct of the tickets issued today (waits of tickets not
    yet called are not in the mean).
    wait_histogram: how many called tickets had a wait in [from_s, to_s), buckets of bucket_s
    seconds from 0 up to the last non-empty one; [] when no ticket was called.
    hourly_arrivals_served: 24 rows; issued = tickets by local hour of issue, served = finished
    tickets by local hour of finish (of the tickets issued in the range).
    ticket_journal: one flat dict per ticket issued in the range, in issue order: local_day,
    number, service (issued for), service_name, final_service, priority, lang, status, issued_at,
    first_called_at, started_at (first start), finished_at (finish or no-show) as ISO 8601 local
    times, counter, counter_number and clerk of its last visit, procedures ("TP-01, TP-03"),
    rating, wait_s, walk_s, service_s, recalls, transfers. No citizen data: no name, ID number,
    birth year, dossier number or ticket id.

Daily summaries
    Figures of days before today are kept per day in `stats_daily` (counts plus the sorted
    durations, so merged medians stay exact) and read back instead of replaying the log; a
    quantile over many stored days is found by exact selection (a sample brackets the rank,
    bisection in each day proves the bracket, only that slice is sorted). Triggers delete a
    day's `stats_days` row whenever an event, procedure or ticket of that day changes (or a
    target wait changes), which makes the day be rebuilt from the log on the next request.
    Today is always computed from the log.
"""
from __future__ import annotations

# One concern a module: replay (the event log, ticket by ticket), tallies (counts and samples),
# daily (the stored daily summaries), quantiles (exact mean/median/p90), reports (rows, summary,
# charts, journal). Every name callers use is re-exported here: `stats.X` keeps working.
from .daily import forget_stale, refresh
from .quantiles import describe, describe_runs, quantile
from .replay import TicketFacts, Visit, ticket_facts
from .reports import (BREAKDOWNS, WEEKDAY_SHORT, compute, counter_label, day_label, hour_label,
                      hourly_arrivals_served, summary, ticket_journal, today_kpis, wait_histogram)
from .tallies import Tally, tally_tickets

__all__ = ["BREAKDOWNS", "Tally", "TicketFacts", "Visit", "WEEKDAY_SHORT", "compute", "counter_label", "day_label",
           "describe", "describe_runs", "forget_stale", "hour_label", "hourly_arrivals_served", "quantile", "refresh",
           "summary", "tally_tickets", "ticket_facts", "ticket_journal", "today_kpis", "wait_histogram"]
