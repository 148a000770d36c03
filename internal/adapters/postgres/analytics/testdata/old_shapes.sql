-- Events as an older release stored them, inserted as it did (the events
-- table allows inserts only). OrderCreated at schema version 1 comes in
-- both shapes it was written in: without a currency (the first release),
-- and with one (later, before v2 made it required).

-- f001: created without a currency, two items added, one removed: a draft.
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at) VALUES
('0190d6cc-0000-7000-8000-00000000e101', '0190d6c9-0000-7000-8000-00000000f001', 1, 'OrderCreated', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f001", "customer_id": "0190d6c9-0000-7000-8000-0000000000c1"}',
 '{"request_id": "r-f001-1"}', '2024-03-01T09:00:00Z'),
('0190d6cc-0000-7000-8000-00000000e102', '0190d6c9-0000-7000-8000-00000000f001', 2, 'OrderItemAdded', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f001", "product_id": "0190d6c9-0000-7000-8000-0000000000a1", "product_name": "Espresso cup", "quantity": 3, "unit_price": "19.99"}',
 '{"request_id": "r-f001-2"}', '2024-03-01T09:01:00Z'),
('0190d6cc-0000-7000-8000-00000000e103', '0190d6c9-0000-7000-8000-00000000f001', 3, 'OrderItemAdded', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f001", "product_id": "0190d6c9-0000-7000-8000-0000000000a2", "product_name": "Saucer", "quantity": 1, "unit_price": "4.50"}',
 '{"request_id": "r-f001-3"}', '2024-03-01T09:02:00Z'),
('0190d6cc-0000-7000-8000-00000000e104', '0190d6c9-0000-7000-8000-00000000f001', 4, 'OrderItemRemoved', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f001", "product_id": "0190d6c9-0000-7000-8000-0000000000a2"}',
 '{"request_id": "r-f001-4"}', '2024-03-01T09:03:00Z');

-- f002: created without a currency, then placed, shipped and delivered.
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at) VALUES
('0190d6cc-0000-7000-8000-00000000e201', '0190d6c9-0000-7000-8000-00000000f002', 1, 'OrderCreated', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f002", "customer_id": "0190d6c9-0000-7000-8000-0000000000c1"}',
 '{}', '2024-03-02T09:00:00Z'),
('0190d6cc-0000-7000-8000-00000000e202', '0190d6c9-0000-7000-8000-00000000f002', 2, 'OrderItemAdded', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f002", "product_id": "0190d6c9-0000-7000-8000-0000000000a1", "product_name": "Espresso cup", "quantity": 2, "unit_price": "19.99"}',
 '{}', '2024-03-02T09:01:00Z'),
('0190d6cc-0000-7000-8000-00000000e203', '0190d6c9-0000-7000-8000-00000000f002', 3, 'OrderPlaced', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f002", "shipping_address": {"name": "Ada Lovelace", "line1": "12 St James''s Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}, "total_amount": "39.98"}',
 '{}', '2024-03-02T09:02:00Z'),
('0190d6cc-0000-7000-8000-00000000e204', '0190d6c9-0000-7000-8000-00000000f002', 4, 'OrderShipped', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f002", "tracking_number": "1Z999AA10123456784", "carrier": "UPS"}',
 '{}', '2024-03-03T10:00:00Z'),
('0190d6cc-0000-7000-8000-00000000e205', '0190d6c9-0000-7000-8000-00000000f002', 5, 'OrderDelivered', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f002", "delivered_at": "2024-03-04T16:29:59Z", "signature": "A. Lovelace"}',
 '{}', '2024-03-04T16:30:00Z');

-- f003: created with a currency at schema version 1: it keeps it.
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, occurred_at) VALUES
('0190d6cc-0000-7000-8000-00000000e301', '0190d6c9-0000-7000-8000-00000000f003', 1, 'OrderCreated', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f003", "customer_id": "0190d6c9-0000-7000-8000-0000000000c2", "currency": "JPY"}',
 '{}', '2025-06-10T08:00:00Z'),
('0190d6cc-0000-7000-8000-00000000e302', '0190d6c9-0000-7000-8000-00000000f003', 2, 'OrderItemAdded', 1,
 '{"order_id": "0190d6c9-0000-7000-8000-00000000f003", "product_id": "0190d6c9-0000-7000-8000-0000000000a3", "product_name": "Tea bowl", "quantity": 2, "unit_price": "1500"}',
 '{}', '2025-06-10T08:01:00Z');
