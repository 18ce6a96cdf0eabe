//! Domain values to response views.

use regulars_api_types::{
    ConsentView, EventView, InteractionView, MemberFactsView, MemberView, OrderLineView, OrderView,
    ReturnLineView, ReturnView, StatsView, StoreView,
};
use regulars_app::{FactCounts, MemberFacts};
use regulars_domain::{BehaviourEvent, Interaction, Member, NewReturn, Order, Store};

pub(crate) fn store(store: &Store) -> StoreView {
    StoreView {
        store_id: store.store_id.to_string(),
        name: store.name.clone(),
        channel: store.channel.as_str().to_owned(),
        time_zone: store.time_zone_name().to_owned(),
        created_from_order: store.created_from_order,
    }
}

pub(crate) fn member(member: &Member) -> MemberView {
    let p = &member.profile;
    MemberView {
        member_id: p.member_id.to_string(),
        name: p.name.clone(),
        phone: p.phone.as_ref().map(ToString::to_string),
        email: p.email.as_ref().map(ToString::to_string),
        line_user_id: p.line_user_id.as_ref().map(|l| l.as_str().to_owned()),
        birthday: p.birthday.map(|d| d.to_string()),
        gender: p.gender.map(|g| g.as_str().to_owned()),
        region: p.region.clone(),
        joined_at: p.joined_at.map(|t| t.to_string()),
        home_store_id: p.home_store.as_ref().map(ToString::to_string),
        referrer_id: p.referrer.as_ref().map(ToString::to_string),
        consents: p
            .consents
            .iter()
            .map(|c| ConsentView {
                channel: c.channel.as_str().to_owned(),
                granted: c.granted,
                at: c.at.map(|t| t.to_string()),
                source: c.source.clone(),
            })
            .collect(),
        created_from: member.created_from.map(|o| o.as_str().to_owned()),
        revision: member.revision,
    }
}

pub(crate) fn order(order: &Order) -> OrderView {
    OrderView {
        order_id: order.order_id.to_string(),
        member_id: order.member_id.to_string(),
        store_id: order.store_id.as_ref().map(ToString::to_string),
        placed_at: order.placed_at.to_string(),
        status: order.status.as_str().to_owned(),
        status_at: order.status_at.map(|t| t.to_string()),
        currency: order.amount.currency().to_string(),
        amount: order.amount.minor(),
        discount: order.discount.minor(),
        shipping: order.shipping.minor(),
        coupon_codes: order.coupon_codes.clone(),
        lines: order
            .lines
            .iter()
            .map(|l| OrderLineView {
                line_no: l.line_no,
                sku: l.sku.to_string(),
                name: l.name.clone(),
                category: l.category.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.minor(),
            })
            .collect(),
    }
}

fn return_view(item: &NewReturn) -> ReturnView {
    ReturnView {
        return_id: item.return_id.to_string(),
        order_id: item.order_id.to_string(),
        currency: item.amount.currency().to_string(),
        amount: item.amount.minor(),
        completed_at: item.completed_at.to_string(),
        lines: item
            .lines
            .iter()
            .map(|l| ReturnLineView {
                sku: l.sku.to_string(),
                quantity: l.quantity,
            })
            .collect(),
    }
}

fn interaction(item: &Interaction) -> InteractionView {
    InteractionView {
        interaction_id: item.interaction_id.to_string(),
        at: item.at.to_string(),
        channel: item.channel.as_str().to_owned(),
        kind: item.kind.as_str().to_owned(),
    }
}

fn event(item: &BehaviourEvent) -> EventView {
    EventView {
        event_id: item.event_id.to_string(),
        at: item.at.to_string(),
        kind: item.kind.as_str().to_owned(),
        sku: item.sku.as_ref().map(ToString::to_string),
        category: item.category.clone(),
        query: item.query.clone(),
    }
}

pub(crate) fn member_facts(facts: &MemberFacts) -> MemberFactsView {
    MemberFactsView {
        member: member(&facts.member),
        orders: facts.orders.iter().map(order).collect(),
        returns: facts.returns.iter().map(return_view).collect(),
        interactions: facts.interactions.iter().map(interaction).collect(),
        events: facts.events.iter().map(event).collect(),
    }
}

pub(crate) fn stats(counts: FactCounts) -> StatsView {
    StatsView {
        members: counts.members,
        stores: counts.stores,
        orders: counts.orders,
        order_lines: counts.order_lines,
        returns: counts.returns,
        interactions: counts.interactions,
        events: counts.events,
    }
}
