//! Shopify's exports: customers become members keyed by e-mail, and an order's line-item rows
//! become one order with lines.

use regulars_domain::{ConsentChannel, OrderStatus};
use regulars_formats::{RowSource, ShopifyCustomers, ShopifyOrders};

use crate::context;

const CUSTOMERS: &str = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address City,Phone,Accepts SMS Marketing,Total Spent\n\
'7001,小美,林,Amy@Example.com,yes,台北市,+886912345678,no,1200.00\n\
'7002,Bob,Chen,,no,Taichung,0922-333-444,yes,0\n\
'7003,Nobody,Here,,,,,,\n";

const ORDERS: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Currency,Subtotal,Shipping,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Location\n\
#1001,amy@example.com,paid,2024-03-01 09:31:00 +0800,fulfilled,2024-03-02 10:00:00 +0800,TWD,570.00,60.00,580.00,SPRING,50.00,2024-03-01 09:30:00 +0800,1,House blend,450.00,BN-HOU,,\n\
#1001,amy@example.com,,,,,,,,,,,,1,Croissant,120.00,,,\n\
#1002,bob@example.com,pending,,,,TWD,90,0,90,,,2024-03-03 10:00:00 +0800,1,Americano,90,CF-AME,,\n\
#1003,amy@example.com,paid,2024-03-04 08:00:00 +0800,,,TWD,90,0,90,,,2024-03-04 08:00:00 +0800,1,Americano,90,CF-AME,2024-03-04 09:00:00 +0800,Taipei Xinyi\n";

#[test]
fn customers_become_members_keyed_by_email_with_their_consents() {
    let mut source = ShopifyCustomers::new(CUSTOMERS.as_bytes(), context()).unwrap();
    let amy = source.next_row().unwrap().result.unwrap();
    assert_eq!(amy.member_id.as_str(), "amy@example.com");
    assert_eq!(amy.name.as_deref(), Some("林小美"));
    assert_eq!(amy.region.as_deref(), Some("台北市"));
    assert!(amy.consent(ConsentChannel::Email).unwrap().granted);
    assert!(!amy.consent(ConsentChannel::Sms).unwrap().granted);
    let bob = source.next_row().unwrap().result.unwrap();
    assert_eq!(
        bob.member_id.as_str(),
        "+886922333444",
        "without an e-mail, the phone is the key"
    );
    assert_eq!(bob.phone.unwrap().as_str(), "+886922333444");
    let nobody = source.next_row().unwrap().result.unwrap();
    assert_eq!(
        nobody.member_id.as_str(),
        "7003",
        "the customer id is the last resort"
    );
    assert!(source.next_row().is_none());
}

#[test]
fn line_item_rows_become_one_order_and_unpaid_orders_are_refused() {
    let mut source = ShopifyOrders::new(ORDERS.as_bytes(), context()).unwrap();
    let first = source.next_row().unwrap();
    assert_eq!(first.line, 2);
    let order = first.result.unwrap();
    assert_eq!(order.order_id.as_str(), "#1001");
    assert_eq!(order.member_id.as_str(), "amy@example.com");
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.amount.minor(), 58_000);
    assert_eq!(order.shipping.minor(), 6_000);
    assert_eq!(order.coupon_codes, ["SPRING"]);
    assert_eq!(order.store_id.as_ref().unwrap().as_str(), "shopify-online");
    let skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(skus, ["BN-HOU", "Croissant"]);
    assert_eq!(order.lines[1].line_no, 2);

    let pending = source.next_row().unwrap();
    assert_eq!(pending.line, 4);
    assert_eq!(pending.result.unwrap_err().0[0].field, "financial status");

    let cancelled = source.next_row().unwrap().result.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.store_id.unwrap().as_str(), "Taipei Xinyi");
    assert!(source.next_row().is_none());
}
