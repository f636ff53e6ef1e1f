import { useState } from 'react';
import type { ApiKey, CreatedApiKey, User } from '../api/types';
import { isRoot, useApi, useApp } from '../app-context';
import { ACTIONS_COLUMN, DataTable } from '../components/DataTable';
import { ConfirmDelete, ConfirmRowDelete, Dialog, FormActions } from '../components/Dialog';
import { PageHeader, SectionHead } from '../components/Misc';
import { SecretOnce, useCreateWithSecret } from '../components/SecretOnce';
import { Async, Empty } from '../components/States';
import { formatDate } from '../lib/format';
import { useAsync, useDialog, useDocumentTitle, useSubmit } from '../lib/hooks';

export default function SettingsPage() {
  const { user, authConfig } = useApp();
  useDocumentTitle('Settings');
  return (
    <section>
      <PageHeader title="Settings" />
      <p className="muted">
        Signed in as <strong>{user?.email}</strong> ({(user?.groups ?? []).join(', ') || 'user'})
      </p>
      <ApiKeys />
      <Sessions />
      {isRoot(user) && authConfig.provider === 'custom' && <Users />}
    </section>
  );
}

/**
 * "Sign out everywhere": ends every session of the signed-in user, this one
 * included. With Cognito, Vega refuses every token of an earlier sign-in
 * (docs/auth.md); signing in again at Cognito works at once.
 */
function Sessions() {
  const api = useApi();
  const { user, signOut, authConfig } = useApp();
  const [confirming, setConfirming] = useState(false);
  if (!user) return null;
  const cognito = authConfig.provider === 'cognito';
  return (
    <section className="panel" aria-labelledby="sessions-title">
      <SectionHead title="Sessions" titleId="sessions-title" action="Sign out everywhere" onAction={() => setConfirming(true)} danger />
      <p className="muted small">
        Signs out every browser and device signed in as you, this one included.{' '}
        {cognito ? 'Vega refuses every token of your earlier sign-ins, even renewed ones; sign in again afterwards. ' : ''}API keys keep
        working.
      </p>
      {confirming && (
        <ConfirmDelete
          title="Sign out everywhere?"
          what="everywhere"
          confirmLabel="Sign out everywhere"
          consequence={`Every session signed in as ${user.email} ends at once, including this one${
            cognito ? ': Vega refuses every token of an earlier Cognito sign-in' : ''
          }. API keys keep working; revoke them above if needed.`}
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await api.revokeSessions(user.id);
            await signOut();
          }}
        />
      )}
    </section>
  );
}

function ApiKeys() {
  const api = useApi();
  const keys = useAsync(() => api.listApiKeys({ limit: 200 }), []);
  const create = useCreateWithSecret<CreatedApiKey>(keys);
  const revoking = useDialog<ApiKey>();
  return (
    <section className="panel" aria-labelledby="keys-title">
      <SectionHead title="API keys" titleId="keys-title" action="Create API key" onAction={create.open} />
      <p className="muted small">Use a key as a bearer token from CI or scripts. Revocation takes effect immediately.</p>
      {create.created && (
        <SecretOnce
          heading={`Copy your new key “${create.created.name}” now — it will not be shown again.`}
          label="API key secret"
          secret={create.created.secret}
          onSaved={create.saved}
        />
      )}
      <Async state={keys} label="Loading API keys…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No API keys" />
          ) : (
            <DataTable caption="API keys" columns={['Name', 'Prefix', 'Created', 'Last used', 'Expires', ACTIONS_COLUMN]}>
              {page.items.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td className="mono">{k.prefix}…</td>
                  <td>{formatDate(k.created_at)}</td>
                  <td>{k.last_used_at ? formatDate(k.last_used_at) : 'Never'}</td>
                  <td>{k.expires_at ? formatDate(k.expires_at) : 'Never'}</td>
                  <td>
                    <button type="button" className="danger small" onClick={() => revoking.open(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Async>
      {create.creating && <CreateKeyDialog onClose={create.close} onCreated={create.onCreated} />}
      <ConfirmRowDelete
        dialog={revoking}
        list={keys}
        confirmLabel="Revoke"
        what={(k) => `API key “${k.name}”`}
        consequence="Anything using this key stops working immediately."
        remove={(k) => api.revokeApiKey(k.id)}
      />
    </section>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (k: CreatedApiKey) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const { busy, error, onSubmit } = useSubmit(async () => {
    // a date input gives a day; the key expires at the end of it, UTC
    onCreated(await api.createApiKey({ name: name.trim(), expires_at: expires ? `${expires}T23:59:59Z` : undefined }));
  });
  return (
    <Dialog title="Create API key" onClose={onClose}>
      <form onSubmit={onSubmit}>
        <label>
          Key name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Expires on (optional)
          <input type="date" value={expires} min={new Date().toISOString().slice(0, 10)} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <FormActions error={error} onCancel={onClose} disabled={busy || !name.trim()}>
          Create key
        </FormActions>
      </form>
    </Dialog>
  );
}

const GROUPS = ['user', 'operator', 'root'];

function Users() {
  const api = useApi();
  const { user: me } = useApp();
  const users = useAsync(() => api.listUsers({ limit: 500 }), []);
  const [adding, setAdding] = useState(false);
  const editing = useDialog<User>();
  const deleting = useDialog<User>();
  return (
    <section className="panel" aria-labelledby="users-title">
      <SectionHead title="Local users" titleId="users-title" action="Add user" onAction={() => setAdding(true)} />
      <Async state={users} label="Loading users…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No users" />
          ) : (
            <DataTable caption="Local users" columns={['Email', 'Name', 'Groups', 'Last sign-in', ACTIONS_COLUMN]}>
              {page.items.map((u) => (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>{u.display_name}</td>
                  <td>{(u.groups ?? []).join(', ')}</td>
                  <td>{u.last_login_at ? formatDate(u.last_login_at) : 'Never'}</td>
                  <td className="actions">
                    <button type="button" className="small" onClick={() => editing.open(u)} aria-label={`Edit ${u.email}`}>
                      Edit
                    </button>
                    <button type="button" className="danger small" disabled={u.id === me?.id} onClick={() => deleting.open(u)} aria-label={`Delete ${u.email}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Async>
      {(adding || editing.item) && (
        <UserDialog
          user={editing.item}
          onClose={() => {
            setAdding(false);
            editing.close();
          }}
          onSaved={() => {
            setAdding(false);
            editing.close();
            users.reload(true);
          }}
        />
      )}
      <ConfirmRowDelete dialog={deleting} list={users} what={(u) => `user ${u.email}`} consequence="The user can no longer sign in." remove={(u) => api.deleteUser(u.id)} />
    </section>
  );
}

function UserDialog({ user, onClose, onSaved }: { user: User | null; onClose: () => void; onSaved: () => void }) {
  const api = useApi();
  const [email, setEmail] = useState(user?.email ?? '');
  const [name, setName] = useState(user?.display_name ?? '');
  const [password, setPassword] = useState('');
  const [keepKeys, setKeepKeys] = useState(false);
  const [groups, setGroups] = useState<Set<string>>(new Set(user?.groups ?? ['user']));
  const { busy, error, onSubmit } = useSubmit(async () => {
    if (user)
      await api.updateUser(user.id, {
        display_name: name.trim(),
        groups: [...groups],
        password: password || undefined,
        keep_api_keys: password ? keepKeys : undefined,
      });
    else await api.createUser({ email: email.trim(), display_name: name.trim(), password, groups: [...groups] });
    onSaved();
  });
  return (
    <Dialog title={user ? `Edit ${user.email}` : 'Add user'} onClose={onClose}>
      <form onSubmit={onSubmit}>
        {!user && (
          <label>
            Email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
        )}
        <label>
          Display name
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          {user ? 'New password (leave empty to keep)' : 'Password'}
          <input type="password" autoComplete="new-password" required={!user} minLength={user && !password ? 0 : 12} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {user && password && (
          <>
            <p className="muted small">A new password signs {user.email} out everywhere and revokes their API keys.</p>
            <label className="inline">
              <input type="checkbox" checked={keepKeys} onChange={(e) => setKeepKeys(e.target.checked)} /> Keep their API keys
            </label>
          </>
        )}
        <fieldset>
          <legend>Groups</legend>
          {GROUPS.map((g) => (
            <label key={g} className="inline">
              <input
                type="checkbox"
                checked={groups.has(g)}
                onChange={() =>
                  setGroups((s) => {
                    const n = new Set(s);
                    if (n.has(g)) n.delete(g);
                    else n.add(g);
                    return n;
                  })
                }
              />{' '}
              {g}
            </label>
          ))}
        </fieldset>
        <FormActions error={error} onCancel={onClose} disabled={busy}>
          {user ? 'Save user' : 'Add user'}
        </FormActions>
      </form>
    </Dialog>
  );
}
