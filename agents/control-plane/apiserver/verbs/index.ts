// One handler per verb (verbs/<verb>.ts), as upstream's registry/rest splits its handlers;
// handler.ts routes a resource request here once its subresource special cases are done.
import type { ResourceRequest } from '../request.ts';
import type { VerbHandler } from './context.ts';
import { handleCreate } from './create.ts';
import { handleDelete } from './delete.ts';
import { handleDeleteCollection } from './deletecollection.ts';
import { handleGet } from './get.ts';
import { handleList } from './list.ts';
import { handlePatch } from './patch.ts';
import { handleUpdate } from './update.ts';
import { handleWatch } from './watch.ts';

export const VERB_HANDLERS: Record<Exclude<ResourceRequest['verb'], ''>, VerbHandler> = {
  get: handleGet,
  list: handleList,
  watch: handleWatch,
  create: handleCreate,
  update: handleUpdate,
  patch: handlePatch,
  delete: handleDelete,
  deletecollection: handleDeleteCollection,
};
