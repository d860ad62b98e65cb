//! Binance request signing.
//!
//! REST (HMAC keys): the signed text is the percent-encoded query string followed directly by
//! the percent-encoded form body (no `&` between them), and the signature is the lowercase hex
//! HMAC-SHA256 of it keyed by the secret. Since 2026 Binance requires the bytes signed to be
//! the bytes sent, so the same encoding produces both. The WebSocket API signs differently:
//! every parameter but `signature`, sorted by name, joined raw (not percent-encoded).

use hmac::Hmac;
use sha2::Sha256;
use std::fmt::Write;

/// Lowercase hex HMAC-SHA256 of `payload` keyed by `secret`.
pub fn hmac_sha256_hex(secret: &str, payload: &str) -> String {
    crate::venues::hmac_hex::<Hmac<Sha256>>(secret, payload)
}

/// `s` percent-encoded for a query or form body: RFC 3986 unreserved characters stay, every
/// other byte of the UTF-8 becomes `%XX` (upper-case hex).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `k=v&k=v` with keys and values percent-encoded, in the given order.
pub fn encode_params(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The REST signature of an already encoded query string and form body (either may be empty):
/// exactly the bytes that will be sent.
pub fn rest_signature(secret: &str, query: &str, body: &str) -> String {
    hmac_sha256_hex(secret, &format!("{query}{body}"))
}

/// The WebSocket API signature: every parameter but `signature`, sorted by name, joined raw.
pub fn ws_signature(secret: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().filter(|(k, _)| *k != "signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let payload = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    hmac_sha256_hex(secret, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret of Binance's documented signing examples.
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    /// The documented example order for `symbol`.
    fn example(symbol: &str) -> [(&str, &str); 8] {
        [
            ("symbol", symbol),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]
    }

    #[test]
    fn rest_signatures_equal_binances_documented_examples() {
        let all = example("LTCBTC");
        // everything in the query (or everything in the body: the same bytes)
        let query = encode_params(&all);
        assert_eq!(
            query,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        let want = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        assert_eq!(rest_signature(SECRET, &query, ""), want);
        assert_eq!(rest_signature(SECRET, "", &query), want);
        // part in the query, part in the body: concatenated with no `&`
        assert_eq!(
            rest_signature(SECRET, &encode_params(&all[..4]), &encode_params(&all[4..])),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
    }

    #[test]
    fn non_ascii_values_are_signed_as_sent_percent_encoded() {
        assert_eq!(percent_encode("１２"), "%EF%BC%91%EF%BC%92");
        assert_eq!(percent_encode("a b&c=d"), "a%20b%26c%3Dd");
        let query = encode_params(&example("１２３４５６"));
        assert!(query.starts_with("symbol=%EF%BC%91%EF%BC%92"));
        assert_eq!(
            rest_signature(SECRET, &query, ""),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn websocket_signatures_sort_the_parameters_and_skip_the_signature() {
        let a = ws_signature(SECRET, &[("timestamp", "2"), ("apiKey", "k")]);
        let b = ws_signature(
            SECRET,
            &[("apiKey", "k"), ("timestamp", "2"), ("signature", "x")],
        );
        assert_eq!(a, b);
        assert_eq!(a, hmac_sha256_hex(SECRET, "apiKey=k&timestamp=2"));
    }
}
