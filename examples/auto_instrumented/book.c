/*
 * book.c: a small order book replay, the code a service would have. It has
 * no otelc call in it: built with -finstrument-functions and linked with
 * libotelc_auto, every function call below becomes a span:
 *
 *   run_book
 *     process_order                      (one per order)
 *       parse_order
 *       validate_order
 *         check_limits
 *       match_order
 *         walk_levels                    (recursive: one per price level crossed)
 *           walk_levels ...
 *       record_fill                      (filled orders only)
 */
#include "book.h"

typedef struct order {
    int id;
    int qty;
    int price;
} order_t;

#define LEVEL_SIZE 100

static int filled_qty;

static void parse_order(int i, order_t *o)
{
    o->id = 1000 + i;
    /* 1 to 4 price levels deep, by order. */
    o->qty = LEVEL_SIZE * (i % 4) + 50;
    o->price = 15000 + i % 7;
}

static int check_limits(const order_t *o)
{
    return o->qty > 0 && o->qty <= 10 * LEVEL_SIZE;
}

static int validate_order(const order_t *o)
{
    return o->id > 0 && check_limits(o);
}

/* Crosses price levels until the quantity is filled: one call per level. */
static int walk_levels(int level, int qty)
{
    if (qty <= LEVEL_SIZE)
        return level;
    return walk_levels(level + 1, qty - LEVEL_SIZE);
}

static int match_order(const order_t *o)
{
    return walk_levels(1, o->qty) > 0;
}

static void record_fill(const order_t *o)
{
    filled_qty += o->qty;
}

static int process_order(int i)
{
    order_t o;

    parse_order(i, &o);
    if (!validate_order(&o) || !match_order(&o))
        return 0;
    record_fill(&o);
    return 1;
}

int run_book(int n)
{
    int filled = 0;

    for (int i = 0; i < n; i++)
        filled += process_order(i);
    return filled;
}
