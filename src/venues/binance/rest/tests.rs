//! Tests of `venues/binance/rest`.

use super::*;

#[test]
fn requests_slow_before_the_limit_and_wait_out_pauses_and_bans() {
    let w = Weight::new(100);
    let t = 7 * 60_000 + 30_000; // half past minute 7
    assert_eq!(w.wait_before(10, t).ok(), Some(Duration::ZERO));
    w.answered(10, Some(85), t);
    // 85 + 10 passes 90 % of 100: wait for minute 8
    assert_eq!(w.wait_before(10, t).ok(), Some(Duration::from_secs(30)));
    assert_eq!(w.wait_before(5, t).ok(), Some(Duration::ZERO), "90 fits");
    assert_eq!(w.usage_at(t), (90, 100));
    // a new minute starts from zero
    assert_eq!(w.wait_before(10, 8 * 60_000).ok(), Some(Duration::ZERO));
    assert_eq!(w.usage_at(8 * 60_000), (10, 100));
    assert_eq!(
        w.usage_at(9 * 60_000),
        (0, 100),
        "an idle minute shows nothing used"
    );
    // a 429's Retry-After holds every request back
    w.pause(8 * 60_000 + 2_000);
    assert_eq!(
        w.wait_before(1, 8 * 60_000 + 500).ok(),
        Some(Duration::from_millis(1_500))
    );
    // a 418 refuses outright until it ends
    w.ban(9 * 60_000);
    assert!(matches!(
        w.wait_before(1, 8 * 60_000 + 3_000),
        Err(RestError::Banned { until }) if until == Timestamp(9 * 60_000)
    ));
    assert_eq!(w.banned_until(9 * 60_000), None);
    assert_eq!(w.wait_before(1, 9 * 60_000).ok(), Some(Duration::ZERO));
}

#[test]
fn requests_still_out_stay_counted_over_an_earlier_answer() {
    let w = Weight::new(1000);
    let t = 3 * 60_000;
    // two tasks set weight aside; the venue answers the first before it saw the second
    assert_eq!(w.wait_before(50, t).ok(), Some(Duration::ZERO));
    assert_eq!(w.wait_before(20, t).ok(), Some(Duration::ZERO));
    w.answered(50, Some(50), t + 10);
    assert_eq!(
        w.usage_at(t + 10),
        (70, 1000),
        "the 20 still out is not forgotten"
    );
    w.answered(20, Some(70), t + 20);
    assert_eq!(w.usage_at(t + 20), (70, 1000));
    // a request that never left gives its weight back; one whose fate is unknown keeps it
    assert_eq!(w.wait_before(5, t + 30).ok(), Some(Duration::ZERO));
    w.refund(5);
    assert_eq!(w.wait_before(7, t + 40).ok(), Some(Duration::ZERO));
    w.answered(7, None, t + 50);
    assert_eq!(w.usage_at(t + 50), (77, 1000));
    w.answered(1, Some(80), t + 60);
    assert_eq!(w.usage_at(t + 60), (80, 1000), "nothing out any more");
}
