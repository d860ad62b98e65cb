//! Tests of `venues/gate/futures`.

use super::*;
use crate::model::Origin;
use rust_decimal_macros::dec;

#[test]
fn orders_are_whole_signed_contracts_and_sells_only_reduce() {
    let btc = Symbol::new("BTC", "USDT").unwrap_or_else(|_| unreachable!());
    let mut req = OrderRequest::market(btc, Side::Buy, dec!(0.003), Origin::Manual);
    assert_eq!(
        order_body(&req, 3, "t-td-1"),
        serde_json::json!({"contract": "BTC_USDT", "size": 3, "price": "0", "tif": "ioc", "text": "t-td-1"})
    );
    req.side = Side::Sell;
    req.kind = OrderKind::Limit;
    req.price = Some(dec!(60000.50));
    req.post_only = true;
    assert_eq!(
        order_body(&req, 3, "t-td-2"),
        serde_json::json!({"contract": "BTC_USDT", "size": -3, "price": "60000.5", "tif": "poc", "text": "t-td-2", "reduce_only": true})
    );
    let c = contract(r#"{"name":"BTC_USDT","quanto_multiplier":"0.001","order_price_round":"0.1","order_size_min":1}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.contracts(dec!(0.003)), Some(3));
    assert_eq!(c.contracts(dec!(0.0035)), None);
    assert_eq!(c.base(-2), dec!(-0.002));
    // what cannot be counted exactly is refused when read
    assert!(
        contract(r#"{"name":"BTC_USDT","quanto_multiplier":"10000000","order_price_round":"0.1"}"#)
            .is_err()
    );
    assert!(order(r#"{"id":1,"contract":"BTC_USDT","size":2,"left":3,"status":"open"}"#).is_err());
    assert!(order(r#"{"id":1,"contract":"BTC_USDT","size":2,"left":-1,"status":"open"}"#).is_err());
    assert!(trades(r#"[{"id":1,"order_id":2,"contract":"BTC_USDT","size":-9223372036854775808,"price":"1"}]"#).is_err());
    assert!(positions(r#"[{"contract":"BTC_USDT","size":1,"mode":"dual_long"}]"#).is_err());
}
