/** The conference module's public surface (rooms on BigBlueButton and Jitsi). */
export { ROOM_CATEGORIES, type RoomCategory } from './tables.js';
export { findRoom, insertRoom, roomsOfContext, type NewRoom, type RoomRow } from './store.js';
