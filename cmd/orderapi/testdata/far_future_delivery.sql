-- A database as orderapi left it before delivery times were bounded, after
-- this request (dumped from that build, then made independent of the
-- server's transaction counter and clock):
--
--   POST /v1/orders/0190d6c9-0000-7000-8000-00000000f0a1/deliver
--   Idempotency-Key: far-future-delivery
--   {"delivered_at": "9999-12-31T23:59:59-23:59"}
--
-- It answered 200 and stored delivered_at in UTC as Go writes year 10000,
-- "10000-01-01T23:58:59Z", which that build could not read back. The
-- analytics consumer stopped before it; the read models and the
-- idempotency key hold what that build wrote.

INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at, recorded_at) VALUES
('01a242c5-c596-7c16-bd8f-a627645a3279', '0190d6c9-0000-7000-8000-00000000f0a1', 1, 'OrderCreated', 2,
 '{"currency": "USD", "order_id": "0190d6c9-0000-7000-8000-00000000f0a1", "customer_id": "0190d6c9-0000-7000-8000-0000000000c7"}',
 '{"request_id": "01a242c5-c596-77f0-9e18-aeec1a065091", "causation_id": "01a242c5-c596-77f0-9e18-aeec1a065091", "correlation_id": "01a242c5-c596-77f0-9e18-aeec1a065091"}',
 '2026-12-04 20:36:27.158789+00', '2026-12-04 20:36:27.172309+00'),
('01a242c5-c5b9-7392-a907-4c914404f70b', '0190d6c9-0000-7000-8000-00000000f0a1', 2, 'OrderItemAdded', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f0a1", "quantity": 2, "product_id": "0190d6c9-0000-7000-8000-0000000000a1", "unit_price": "19.99", "product_name": "Espresso cup"}',
 '{"request_id": "01a242c5-c5b6-71c2-aaf0-8876d90edfab", "causation_id": "01a242c5-c5b6-71c2-aaf0-8876d90edfab", "correlation_id": "01a242c5-c5b6-71c2-aaf0-8876d90edfab"}',
 '2026-12-04 20:36:27.193231+00', '2026-12-04 20:36:27.193376+00'),
('01a242c5-c5ca-7974-acac-aef5e757ee92', '0190d6c9-0000-7000-8000-00000000f0a1', 3, 'OrderPlaced', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f0a1", "total_amount": "39.98", "shipping_address": {"city": "London", "name": "Ada Lovelace", "line1": "12 St James Square", "country": "GB", "postal_code": "SW1Y 4JH"}}',
 '{"request_id": "01a242c5-c5ca-74d3-9592-e30ceaa259d3", "causation_id": "01a242c5-c5ca-74d3-9592-e30ceaa259d3", "correlation_id": "01a242c5-c5ca-74d3-9592-e30ceaa259d3"}',
 '2026-12-04 20:36:27.210617+00', '2026-12-04 20:36:27.210846+00'),
('01a242c5-c5dc-71f5-8e06-acdd9c5b900f', '0190d6c9-0000-7000-8000-00000000f0a1', 4, 'OrderShipped', 1,
 '{"carrier": "UPS", "order_id": "0190d6c9-0000-7000-8000-00000000f0a1", "tracking_number": "1Z999AA10123456784"}',
 '{"request_id": "01a242c5-c5db-7da2-9a9f-224f4a468072", "causation_id": "01a242c5-c5db-7da2-9a9f-224f4a468072", "correlation_id": "01a242c5-c5db-7da2-9a9f-224f4a468072"}',
 '2026-12-04 20:36:27.228126+00', '2026-12-04 20:36:27.228321+00'),
('01a242c5-c5ef-7e9b-965d-904cb86c0efb', '0190d6c9-0000-7000-8000-00000000f0a1', 5, 'OrderDelivered', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f0a1", "delivered_at": "10000-01-01T23:58:59Z"}',
 '{"request_id": "01a242c5-c5ee-7721-9c3b-ad0119a9b660", "causation_id": "01a242c5-c5ee-7721-9c3b-ad0119a9b660", "correlation_id": "01a242c5-c5ee-7721-9c3b-ad0119a9b660"}',
 '2026-12-04 20:36:27.247953+00', '2026-12-04 20:36:27.248168+00');

INSERT INTO order_details (order_id, customer_id, status, currency, items, item_count, total, shipping_address, tracking_number, carrier, signature, cancel_reason, cancelled_by, version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at) VALUES
('0190d6c9-0000-7000-8000-00000000f0a1', '0190d6c9-0000-7000-8000-0000000000c7', 'delivered', 'USD',
 '[{"quantity": 2, "product_id": "0190d6c9-0000-7000-8000-0000000000a1", "unit_price": "19.99", "product_name": "Espresso cup"}]', 2, 39.98,
 '{"city": "London", "name": "Ada Lovelace", "line1": "12 St James Square", "country": "GB", "postal_code": "SW1Y 4JH"}',
 '1Z999AA10123456784', 'UPS', NULL, NULL, NULL, 5,
 '2026-12-04 20:36:27.158789+00', '2026-12-04 20:36:27.247953+00', '2026-12-04 20:36:27.210617+00', '2026-12-04 20:36:27.228126+00', '10000-01-01 23:58:59+00', NULL);

INSERT INTO customer_orders (customer_id, order_id, status, currency, total, item_count, version, created_at, updated_at) VALUES
('0190d6c9-0000-7000-8000-0000000000c7', '0190d6c9-0000-7000-8000-00000000f0a1', 'delivered', 'USD', 39.98, 2, 5,
 '2026-12-04 20:36:27.158789+00', '2026-12-04 20:36:27.247953+00');

-- The key's claim is kept unexpired, so that the request's retry replays.
INSERT INTO idempotency_keys (key, fingerprint, order_id, version, "position", created_at, expires_at)
SELECT 'far-future-delivery', '\x35f76b854ebf0d0053618c1f8fdc8f2f052c1a6f061bd1f3b55896c937267829',
       '0190d6c9-0000-7000-8000-00000000f0a1', 5, position, now(), now() + interval '1 day'
  FROM events WHERE event_id = '01a242c5-c5ef-7e9b-965d-904cb86c0efb';

-- The analytics consumer counted the first four events and stopped.
INSERT INTO analytics_daily (date, currency, orders_created, orders_placed, orders_shipped, orders_delivered, orders_cancelled, revenue_placed, revenue_cancelled, items_sold) VALUES
('2026-12-04', 'USD', 1, 1, 1, 0, 0, 39.98, 0, 2);
INSERT INTO analytics_orders (order_id, currency, items, placed_total) VALUES
('0190d6c9-0000-7000-8000-00000000f0a1', 'USD', '{"0190d6c9-0000-7000-8000-0000000000a1": 2}', 39.98);
UPDATE projection_checkpoints c
   SET transaction_id = e.transaction_id, position = e.position
  FROM events e
 WHERE c.name = 'analytics' AND e.event_id = '01a242c5-c5dc-71f5-8e06-acdd9c5b900f';
