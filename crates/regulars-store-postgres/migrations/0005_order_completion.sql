-- When each order became completed (NULL while it never was), so valid_order_mode = "completed"
-- can count an order from that moment, also after a later cancellation.
-- Existing orders: a completed order completed at its status time; a cancelled one that had been
-- completed at its recorded move to completed, or, when it arrived completed, at its placement
-- (the moment it arrived completed was not kept).

ALTER TABLE orders ADD COLUMN completed_at BIGINT;

UPDATE orders SET completed_at = status_at WHERE status = 'completed';

UPDATE orders SET completed_at = COALESCE(
    (SELECT MIN(c.at) FROM order_status_changes c
     WHERE c.order_id = orders.order_id AND c.to_status = 'completed'),
    placed_at)
WHERE status = 'cancelled'
  AND EXISTS (SELECT 1 FROM order_status_changes c
              WHERE c.order_id = orders.order_id AND c.from_status = 'completed');
