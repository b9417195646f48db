import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  businessNumberOf,
  contactNameOf,
  errorsOf,
  replyToOf,
  textOf,
  userOf,
} from '../../src/whatsapp/mapping.js';

describe('WhatsApp mapping', () => {
  it('takes the searchable words of each type, and null where there are none', () => {
    const cases: [object, string | null][] = [
      [{ type: 'text', text: { body: 'hi' } }, 'hi'],
      [{ type: 'text', text: { body: 5 } }, null],
      [{ type: 'text' }, null],
      [{ type: 'image', image: { caption: 'cap' } }, 'cap'],
      [{ type: 'image', image: {} }, null],
      [{ type: 'video', video: { caption: 'v' } }, 'v'],
      [{ type: 'document', document: { caption: 'c', filename: 'f.pdf' } }, 'c'],
      [{ type: 'document', document: { filename: 'f.pdf' } }, 'f.pdf'],
      [{ type: 'document', document: { caption: '', filename: 'f.pdf' } }, 'f.pdf'],
      [{ type: 'audio', audio: { id: '1' } }, null],
      [{ type: 'sticker', sticker: { id: '1' } }, null],
      [{ type: 'reaction', reaction: { emoji: '👍' } }, '👍'],
      [{ type: 'reaction', reaction: { emoji: '' } }, null],
      [{ type: 'interactive', interactive: { button_reply: { title: 'Yes' } } }, 'Yes'],
      [{ type: 'interactive', interactive: { list_reply: { title: 'M', description: 'd' } } }, 'M'],
      [{ type: 'button', button: { text: 'Stop', payload: 'p' } }, 'Stop'],
      [{ type: 'location', location: { name: 'N', address: 'A' } }, 'N, A'],
      [{ type: 'location', location: { address: 'A' } }, 'A'],
      [{ type: 'location', location: { latitude: 1 } }, null],
      [{ type: 'system', system: { body: 'changed' } }, 'changed'],
      [{ type: 'contacts', contacts: [{ name: { formatted_name: 'P' } }] }, null],
      [{ type: 'poll_vote', poll_vote: { text: 'x' } }, null],
      [{ text: { body: 'no type' } }, null],
    ];
    for (const [item, text] of cases)
      assert.equal(textOf(item as never), text, JSON.stringify(item));
  });

  it('shows a user as + and digits, else their business-scoped id, else as given', () => {
    assert.equal(userOf('447700900123', 'GB.1'), '+447700900123');
    assert.equal(userOf(undefined, 'BR.1502576394655843'), 'BR.1502576394655843');
    assert.equal(userOf('', 'BR.1'), 'BR.1');
    assert.equal(userOf('+44 7700', undefined), '+44 7700');
    assert.equal(userOf(undefined, undefined), null);
    assert.equal(userOf(447700900123, undefined), null);
  });

  it("names the contact whose wa_id or user_id is the sender's", () => {
    const contacts = [
      { profile: { name: 'A' }, wa_id: '1' },
      { profile: { name: 'B' }, user_id: 'BR.2' },
      { profile: {}, wa_id: '3' },
      'junk',
    ];
    assert.equal(contactNameOf(contacts, { from: '1' }), 'A');
    assert.equal(contactNameOf(contacts, { from_user_id: 'BR.2' }), 'B');
    assert.equal(contactNameOf(contacts, { from: '3' }), null);
    assert.equal(contactNameOf(contacts, { from: '9' }), null);
    assert.equal(contactNameOf('not a list', { from: '1' }), null);
  });

  it('takes the first contact that matches by wa_id or user_id, as a scan in order would', () => {
    const contacts = [
      'junk',
      { profile: { name: 'U' }, user_id: 'BR.7' },
      { profile: { name: 'P' }, wa_id: '7' },
      { profile: { name: 'P2' }, wa_id: '7', user_id: 'BR.8' },
      { profile: { name: 'U2' }, user_id: 'BR.7' },
    ];
    assert.equal(contactNameOf(contacts, { from: '7', from_user_id: 'BR.7' }), 'U');
    assert.equal(contactNameOf(contacts, { from: '7', from_user_id: 'BR.8' }), 'P');
    assert.equal(contactNameOf(contacts, { from: '9', from_user_id: 'BR.8' }), 'P2');
    assert.equal(contactNameOf(contacts, { from: '', from_user_id: '' }), null);
    assert.equal(contactNameOf([], { from: '7' }), null);
  });

  it('reads context.id, the business number, and error codes as integers only', () => {
    assert.equal(replyToOf({ context: { id: 'wamid.1', from: '1' } }), 'wamid.1');
    assert.equal(replyToOf({ context: { id: 5 } }), null);
    assert.equal(
      businessNumberOf({ metadata: { display_phone_number: '+1 555-078-3881' } }),
      '+15550783881',
    );
    assert.equal(businessNumberOf({ metadata: {} }), null);
    assert.deepEqual(
      errorsOf({
        errors: [{ code: 131049, title: 't' }, { code: '7' }, { code: 1.5, title: 2 }, 'x'],
      }),
      [
        { code: 131049, title: 't' },
        { code: null, title: null },
        { code: null, title: null },
      ],
    );
    assert.deepEqual(errorsOf({}), []);
  });
});
