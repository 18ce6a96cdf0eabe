//! Properties of the readers: no input makes them panic, and what the writer writes reads back.

use proptest::prelude::*;
use regulars_domain::{Currency, MemberId, Money, Order, OrderId, OrderStatus, StoreId};
use regulars_formats::{CsvSink, CsvSource, JsonlSource, RowSource};

use crate::context;

fn drain<T>(mut source: impl RowSource<T>) -> usize {
    let mut n = 0;
    while source.next_row().is_some() {
        n += 1;
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_never_panic_the_csv_reader(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut text = b"order_id,member_id,placed_at,amount,lines\n".to_vec();
        text.extend(body);
        if let Ok(source) = CsvSource::<_, Order>::new(text.as_slice(), context()) {
            drain(source);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_jsonl_reader(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        drain(JsonlSource::<_, Order>::new(body.as_slice(), context()));
    }

    #[test]
    fn arbitrary_headers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = CsvSource::<_, regulars_domain::MemberProfile>::new(body.as_slice(), context());
    }

    #[test]
    fn orders_written_as_csv_read_back_unchanged(
        amount in 0_i64..100_000_000,
        shipping_share in 0_i64..=100,
        seconds in 0_i64..2_000_000_000,
        completed in any::<bool>(),
        codes in proptest::collection::vec("[A-Z0-9]{1,8}", 0..3),
    ) {
        let placed_at = jiff::Timestamp::from_second(seconds).unwrap();
        let order = Order {
            order_id: OrderId::parse("O-1").unwrap(),
            member_id: MemberId::parse("M 1").unwrap(),
            store_id: Some(StoreId::parse("S,1").unwrap()),
            placed_at,
            status: if completed { OrderStatus::Completed } else { OrderStatus::Paid },
            status_at: Some(placed_at),
            amount: Money::from_minor(amount, Currency::TWD),
            discount: Money::zero(Currency::TWD),
            shipping: Money::from_minor(amount * shipping_share / 100, Currency::TWD),
            coupon_codes: codes,
            lines: vec![],
        };
        let mut sink = CsvSink::<_, Order>::new(Vec::new(), context().zone).unwrap();
        sink.write(&order).unwrap();
        let bytes = sink.finish().unwrap();
        let mut source = CsvSource::<_, Order>::new(bytes.as_slice(), context()).unwrap();
        let read = source.next_row().unwrap().result.unwrap();
        prop_assert_eq!(read, order);
    }
}
