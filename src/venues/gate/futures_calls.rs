//! The futures testnet's REST calls, on a `Rest` built with `Rest::testnet`: contracts,
//! orders (placed, cancelled, looked up by our `text`), trades, positions and the account.

use super::futures::{
    Contract, FuturesAccount, FuturesOrder, FuturesPosition, FuturesTrade, ORDER_NOT_FOUND,
    account, contract, order, order_body, orders, positions, trades,
};
use super::parse::pair_name;
use super::rest::{GateError, Rest};
use crate::model::{OrderRequest, Symbol};
use reqwest::Method;

/// How many orders one list request returns (Gate's largest page).
const PAGE: usize = 100;

/// How many pages of finished orders a lookup by `text` searches when Gate no longer finds the
/// order by it (custom ids are kept only a minute after an order ends): the latest 1,000.
const FINISHED_PAGES: usize = 10;

/// The futures testnet calls, on a `Rest` built with `Rest::testnet`.
impl Rest {
    /// A contract's rules.
    pub async fn contract(&self, symbol: Symbol) -> Result<Contract, GateError> {
        let path = format!("/futures/usdt/contracts/{}", pair_name(symbol));
        let body = self.signed(Method::GET, &path, &[], "").await?;
        Ok(contract(&body)?)
    }

    /// Places an order for `contracts` under `text`.
    pub async fn place_futures(
        &self,
        req: &OrderRequest,
        contracts: i64,
        text: &str,
    ) -> Result<FuturesOrder, GateError> {
        let body = order_body(req, contracts, text).to_string();
        let answer = self
            .signed(Method::POST, "/futures/usdt/orders", &[], &body)
            .await?;
        Ok(order(&answer)?)
    }

    /// Cancels the order named `key` (Gate's id, or our `text` while it is in the book).
    pub async fn cancel_futures(&self, key: &str) -> Result<FuturesOrder, GateError> {
        let path = format!("/futures/usdt/orders/{key}");
        let body = self.signed(Method::DELETE, &path, &[], "").await?;
        Ok(order(&body)?)
    }

    /// The order named `key` (Gate's id, or our `text`).
    pub async fn futures_order(&self, key: &str) -> Result<FuturesOrder, GateError> {
        let path = format!("/futures/usdt/orders/{key}");
        let body = self.signed(Method::GET, &path, &[], "").await?;
        Ok(order(&body)?)
    }

    /// Our order by its `text` on `symbol`: asked for directly, and searched for among the
    /// latest 1,000 finished orders once Gate no longer knows the `text` (`None`: not there).
    pub async fn futures_order_by_text(
        &self,
        symbol: Symbol,
        text: &str,
    ) -> Result<Option<FuturesOrder>, GateError> {
        match self.futures_order(text).await {
            Ok(o) => return Ok(Some(o)),
            Err(GateError::Refused { label, .. }) if label == ORDER_NOT_FOUND => {}
            Err(e) => return Err(e),
        }
        let mut after = None;
        for _ in 0..FINISHED_PAGES {
            let page = self.futures_orders_page(symbol, "finished", after).await?;
            if let Some(o) = page.iter().find(|o| o.text == text) {
                return Ok(Some(o.clone()));
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.id),
                _ => break,
            }
        }
        Ok(None)
    }

    /// `symbol`'s orders with `status` (`open` or `finished`, the latest 100).
    pub async fn futures_orders(
        &self,
        symbol: Symbol,
        status: &str,
    ) -> Result<Vec<FuturesOrder>, GateError> {
        self.futures_orders_page(symbol, status, None).await
    }

    /// One page of `symbol`'s orders with `status`, newest first, older than the order
    /// `after` when given.
    async fn futures_orders_page(
        &self,
        symbol: Symbol,
        status: &str,
        after: Option<i64>,
    ) -> Result<Vec<FuturesOrder>, GateError> {
        let contract = pair_name(symbol);
        let (last, limit) = (after.map(|id| id.to_string()), PAGE.to_string());
        let mut query = vec![
            ("contract", contract.as_str()),
            ("status", status),
            ("limit", limit.as_str()),
        ];
        if let Some(last) = &last {
            query.push(("last_id", last));
        }
        let body = self
            .signed(Method::GET, "/futures/usdt/orders", &query, "")
            .await?;
        Ok(orders(&body)?)
    }

    /// The trades of Gate's order `order_id` on `symbol`.
    pub async fn futures_trades(
        &self,
        symbol: Symbol,
        order_id: i64,
    ) -> Result<Vec<FuturesTrade>, GateError> {
        let (contract, order) = (pair_name(symbol), order_id.to_string());
        let body = self
            .signed(
                Method::GET,
                "/futures/usdt/my_trades",
                &[("contract", &contract), ("order", &order)],
                "",
            )
            .await?;
        Ok(trades(&body)?)
    }

    /// The trades of our order with `text` on `symbol`, among the account's latest 1,000
    /// (how an order finished long ago, and no longer listed, is still settled), oldest first.
    pub async fn futures_trades_by_text(
        &self,
        symbol: Symbol,
        text: &str,
    ) -> Result<Vec<FuturesTrade>, GateError> {
        let contract = pair_name(symbol);
        let body = self
            .signed(
                Method::GET,
                "/futures/usdt/my_trades",
                &[("contract", &contract), ("limit", "1000")],
                "",
            )
            .await?;
        let mut ours: Vec<FuturesTrade> = trades(&body)?
            .into_iter()
            .filter(|t| t.text == text)
            .collect();
        ours.sort_by_key(|t| t.id);
        Ok(ours)
    }

    /// The open positions.
    pub async fn futures_positions(&self) -> Result<Vec<FuturesPosition>, GateError> {
        let body = self
            .signed(Method::GET, "/futures/usdt/positions", &[], "")
            .await?;
        Ok(positions(&body)?)
    }

    /// The futures account.
    pub async fn futures_account(&self) -> Result<FuturesAccount, GateError> {
        let body = self
            .signed(Method::GET, "/futures/usdt/accounts", &[], "")
            .await?;
        Ok(account(&body)?)
    }
}
