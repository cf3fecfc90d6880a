// Components this instance substitutes for InvenioRDM's overridable React components,
// keyed by override id, e.g. "InvenioAppRdm.Deposit.AccordionFieldFiles.container".
// The registry entry point of invenio-app-rdm imports this map and registers each pair.
// Empty: every component is the stock one.
export const overriddenComponents = {};
