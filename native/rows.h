// CSV rows made in C++ from finished connections (rows.cc); registered by table.cc's Init.
#pragma once
#include <node_api.h>

/** Doubles of `info` per connection csvRows wrote: its offset in the doubles, first frame, keepalive probes, zero-window probes, findings (-1: no row made), then up to 8 finding codes. */
constexpr int ROW_INFO = 13;

/**
 * csvRows(doubles: Float64Array, count, middleboxTimeout, info: Float64Array, store?): the rows
 * (csv.ts csvRow, no line end) of the `count` connections at the start of `doubles` (handoff.ts's
 * layout), an array with a hole where a row was left to the TypeScript report, or with `store`
 * (rowStore) into the store; `info` gets ROW_INFO doubles per connection.
 */
napi_value CsvRows(napi_env env, napi_callback_info info);

/** rowStore(): a store for rows that wait for older connections (csvRows's fifth argument puts its rows there instead of returning them). */
napi_value CreateRowStore(napi_env env, napi_callback_info info);
/** storeRow(store, row, firstFrame): a row made in TypeScript, into the store. */
napi_value StoreRow(napi_env env, napi_callback_info info);
/** storedRows(store): how many rows wait there. */
napi_value StoredRows(napi_env env, napi_callback_info info);
/** releaseRows(store, beforeFrame): the rows of first frame below it, in that order, joined by CRLF (none after the last) into one Buffer, and forgotten; null when none. */
napi_value ReleaseRows(napi_env env, napi_callback_info info);

/** formatNumber(x, digits?): x as String(x) writes it, as x.toFixed(digits) for digits 0-3, or as units.ts seconds(x) for any other digits (for the tests). */
napi_value FormatNumber(napi_env env, napi_callback_info info);
