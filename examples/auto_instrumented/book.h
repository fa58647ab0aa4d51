/* book.h: the order book replay of auto_instrumented (book.c, built with
 * -finstrument-functions). */
#ifndef AUTO_BOOK_H
#define AUTO_BOOK_H

/* Replays `n` orders; returns the number filled. */
int run_book(int n);

#endif
