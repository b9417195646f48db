import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { classify, describeError, isStale } from '../../src/store/postgres/errors.js';
import { StoreUnavailableError } from '../../src/store/store.js';

/** A server error as pg builds it: a DatabaseError with a severity and a SQLSTATE. */
function serverError(code: string, message = 'server says no'): pg.DatabaseError {
  const error = new pg.DatabaseError(message, 0, 'error');
  error.severity = 'ERROR';
  error.code = code;
  return error;
}

function socketError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:5432`), { code });
}

describe('PostgreSQL error classification', () => {
  it('turns connection, resource, operator, lock, auth and failover errors into 503s', () => {
    const unavailable = [
      socketError('ECONNREFUSED'),
      socketError('ECONNRESET'),
      socketError('ETIMEDOUT'),
      socketError('EPIPE'),
      socketError('ENOTFOUND'),
      new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], ''),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      new Error('Cannot use a pool after calling end on the pool'),
      serverError('08006'),
      serverError('53100', 'could not extend file: No space left on device'),
      serverError('53300', 'sorry, too many clients already'),
      serverError('57P01', 'terminating connection due to administrator command'),
      serverError('57014', 'canceling statement due to statement timeout'),
      serverError('57P03', 'the database system is starting up'),
      serverError('58030', 'could not write to file'),
      serverError('55P03', 'canceling statement due to lock timeout'),
      serverError('40001'),
      serverError('40P01'),
      serverError('25006', 'cannot execute INSERT in a read-only transaction'),
      serverError('3D000', 'database "app" does not exist'),
      serverError('28P01', 'password authentication failed for user "app"'),
    ];
    for (const error of unavailable) {
      const classified = classify(error);
      assert.ok(classified instanceof StoreUnavailableError, `${describeError(error)} → 503`);
      assert.equal((classified as Error).cause, error);
    }
  });

  it('leaves bugs alone, so they stay 500s', () => {
    const bugs = [
      serverError('42601', 'syntax error at or near "SELCT"'),
      serverError('42P01', 'relation "messages" does not exist'),
      serverError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'),
      serverError('23505'),
      new TypeError('boom'),
      // a 5-character socket code is not a SQLSTATE: only server errors carry a severity
      Object.assign(new Error('some other failure'), { code: '57P01' }),
    ];
    for (const error of bugs) assert.equal(classify(error), error, describeError(error));
  });

  it('retries once only what a fresh connection may fix', () => {
    assert.equal(isStale(serverError('57P01')), true);
    assert.equal(isStale(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isStale(socketError('ECONNRESET')), true);
    assert.equal(isStale(serverError('40P01')), true);
    assert.equal(isStale(socketError('ECONNREFUSED')), false, 'the server is down');
    assert.equal(isStale(new Error('Query read timeout')), false, 'timeouts are not repeated');
    assert.equal(isStale(serverError('57014')), false, 'timeouts are not repeated');
    assert.equal(isStale(serverError('55P03')), false, 'lock waits are not repeated');
  });

  it('describes errors by code and message, AggregateError by its parts', () => {
    assert.equal(
      describeError(serverError('57P01', 'terminating connection due to administrator command')),
      '57P01: terminating connection due to administrator command',
    );
    assert.equal(
      describeError(new AggregateError([socketError('ECONNREFUSED')], '')),
      'connect ECONNREFUSED 10.0.0.1:5432',
    );
  });
});
